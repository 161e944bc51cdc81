// The application of the `voxkey` contender, shared with the experiments that vary its options.
import { Controller, type DynamicModule, Get, Module } from '@nestjs/common';
import { Scopes, VoxKeyModule, type VoxKeyModuleOptions } from '../../lib/index';
import { env, POSTS } from './common';

@Controller('posts')
class PostsController {
  @Get() @Scopes('read:posts') list() {
    return POSTS;
  }
}

/** The route behind VoxKeyModule and @Scopes, with `options` added to the realm's. */
export function voxkeyAppModule(options: Partial<VoxKeyModuleOptions> = {}): DynamicModule {
  @Module({
    imports: [
      VoxKeyModule.forRoot({
        domain: env.domain,
        realm: env.realm,
        audience: env.audience,
        ...options,
      }),
    ],
    controllers: [PostsController],
  })
  class VoxKeyAppModule {}
  return { module: VoxKeyAppModule };
}
