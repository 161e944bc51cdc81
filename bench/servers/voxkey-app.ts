// The application of the `voxkey` contender, shared with the experiments that vary it.
import { Controller, Get, Module } from '@nestjs/common';
import { Scopes, VoxKeyModule } from '../../lib/index';
import { env, POSTS } from './common';

@Controller('posts')
class PostsController {
  @Get() @Scopes('read:posts') list() {
    return POSTS;
  }
}

@Module({
  imports: [VoxKeyModule.forRoot({ domain: env.domain, realm: env.realm, audience: env.audience })],
  controllers: [PostsController],
})
export class VoxKeyAppModule {}
