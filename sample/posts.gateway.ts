import { type OnGatewayInit, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Resource, Scopes, VoxKeySockets, VoxKeyUser } from '@voxkey/nestjs';
import type { Server } from 'socket.io';
import { type PostRecord, PostsStore } from './posts.store';
import { API_RESOURCE } from './sample.config';

/**
 * The posts over socket.io on the API's own port: the client sends its token in the handshake,
 * `io(url, { auth: { token } })`; the socket is checked when it connects, every message like a
 * request, and it is closed when its token expires.
 */
@Resource(API_RESOURCE)
@WebSocketGateway()
export class PostsGateway implements OnGatewayInit {
  constructor(
    private readonly store: PostsStore,
    private readonly sockets: VoxKeySockets,
  ) {}

  /** Sockets without a valid token for this gateway's resource are refused before they connect. */
  afterInit(server: Server): void {
    server.use(this.sockets.ioMiddleware(this));
  }

  @SubscribeMessage('posts')
  @Scopes('read:posts')
  posts(@VoxKeyUser('sub') sub: string | undefined): {
    for: string | undefined;
    posts: PostRecord[];
  } {
    return { for: sub, posts: this.store.list() };
  }
}
