import { BadRequestException } from '@nestjs/common';
import { Args, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { Resource, Scopes, VoxKeyUser } from '@voxkey/nestjs';
import { type PostRecord, PostsStore } from './posts.store';
import { API_RESOURCE } from './sample.config';

/** The GraphQL schema of the sample (schema first). */
export const TYPE_DEFS = /* GraphQL */ `
  type Post {
    id: Int!
    title: String!
    author: String
  }
  type Query {
    posts: [Post!]!
  }
  type Mutation {
    createPost(title: String!): Post!
  }
  type Subscription {
    postCreated: Post!
  }
`;

/** The same posts over GraphQL at /graphql, with the same scopes as the REST routes. */
@Resource(API_RESOURCE)
@Resolver('Post')
export class PostsResolver {
  constructor(private readonly store: PostsStore) {}

  @Query('posts')
  @Scopes('read:posts')
  posts(): PostRecord[] {
    return this.store.list();
  }

  @Mutation('createPost')
  @Scopes('write:posts')
  createPost(@Args('title') title: string, @VoxKeyUser('sub') sub: string | undefined): PostRecord {
    const post = this.store.add(title, sub);
    if (!post) throw new BadRequestException('title must be a string of 1 to 200 characters');
    return post;
  }

  /** Over graphql-ws: the token in `connectionParams.authorization`. */
  @Subscription('postCreated')
  @Scopes('read:posts')
  postCreated(): AsyncGenerator<{ postCreated: PostRecord }> {
    return this.store.created();
  }
}
