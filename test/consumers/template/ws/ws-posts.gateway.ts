import { UseGuards } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Scopes, ScopesGuard, VoxKeyAuthGuard, VoxKeyUser } from '@voxkey/nestjs';

// A gateway on the `ws` package (the app uses VoxKeyWsAdapter). NestJS 11 does not apply global
// guards (APP_GUARD) to gateways: the guards are listed here.
@WebSocketGateway({ path: '/ws' })
@UseGuards(VoxKeyAuthGuard, ScopesGuard)
export class WsPostsGateway {
  @Scopes('read:posts')
  @SubscribeMessage('posts')
  posts(@VoxKeyUser('sub') sub: string) {
    return { event: 'posts', data: { for: sub, posts: [] } };
  }
}
