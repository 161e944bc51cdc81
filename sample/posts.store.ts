import { Injectable } from '@nestjs/common';
import { EventEmitter, on } from 'node:events';

/** A post of the sample's in-memory store. */
export interface PostRecord {
  id: number;
  title: string;
  author: string | undefined;
}

/** The sample's posts, shared by the REST controller, the GraphQL resolver and the gateway. */
@Injectable()
export class PostsStore {
  private readonly posts: PostRecord[] = [{ id: 1, title: 'Hello VoxKey', author: 'sample' }];
  private readonly events = new EventEmitter();

  list(): PostRecord[] {
    return this.posts;
  }

  add(title: unknown, author: string | undefined): PostRecord | undefined {
    if (typeof title !== 'string' || title.length === 0 || title.length > 200) return undefined;
    const post = { id: this.posts.length + 1, title, author };
    this.posts.push(post);
    this.events.emit('created', post);
    return post;
  }

  /** Posts as they are created, for the GraphQL subscription. */
  async *created(): AsyncGenerator<{ postCreated: PostRecord }> {
    for await (const [post] of on(this.events, 'created'))
      yield { postCreated: post as PostRecord };
  }
}
