import { Controller, Get } from '@nestjs/common';
import { Scopes, VoxKeyUser } from '@voxkey/nestjs';

@Controller('posts')
export class PostsController {
  @Get()
  @Scopes('read:posts')
  list(@VoxKeyUser('sub') sub: string) {
    return { for: sub, posts: [] };
  }
}
