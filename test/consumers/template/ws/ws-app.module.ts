import { type DynamicModule, Module } from '@nestjs/common';
import { VoxKeyModule, type VoxKeyModuleOptions } from '@voxkey/nestjs';
import { WsPostsGateway } from './ws-posts.gateway';

@Module({})
export class WsAppModule {
  static withVoxKey(options: VoxKeyModuleOptions): DynamicModule {
    return {
      module: WsAppModule,
      imports: [VoxKeyModule.forRoot(options)],
      providers: [WsPostsGateway],
    };
  }
}
