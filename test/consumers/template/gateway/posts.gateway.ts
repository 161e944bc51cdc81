import { UseGuards } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Scopes, ScopesGuard, VoxKeyAuthGuard, VoxKeyUser } from '@voxkey/nestjs';

// NestJS 11 does not apply global guards (APP_GUARD) to gateways: the guards are listed here.
@WebSocketGateway()
@UseGuards(VoxKeyAuthGuard, ScopesGuard)
export class PostsGateway {
  @Scopes('read:posts')
  @SubscribeMessage('posts')
  posts(@VoxKeyUser('sub') sub: string) {
    return { for: sub, posts: [] };
  }
}
