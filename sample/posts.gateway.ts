import { Scopes, VoxKeyUser } from '@voxkey/nestjs';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { type PostRecord, PostsStore } from './posts.store';

/**
 * The posts over socket.io on the API's own port: the client sends its token in the handshake,
 * `io(url, { auth: { token } })`, and every message is checked like a request.
 */
@WebSocketGateway()
export class PostsGateway {
  constructor(private readonly store: PostsStore) {}

  @SubscribeMessage('posts')
  @Scopes('read:posts')
  posts(@VoxKeyUser('sub') sub: string | undefined): {
    for: string | undefined;
    posts: PostRecord[];
  } {
    return { for: sub, posts: this.store.list() };
  }
}
