import { type DynamicModule, Module } from '@nestjs/common';
import { VoxKeyModule, type VoxKeyModuleOptions } from '@voxkey/nestjs';
import { OpenGateway } from './open.gateway';
import { PostsGateway } from './posts.gateway';

@Module({})
export class GatewayAppModule {
  static withVoxKey(options: VoxKeyModuleOptions): DynamicModule {
    return {
      module: GatewayAppModule,
      imports: [VoxKeyModule.forRoot(options)],
      providers: [PostsGateway, OpenGateway],
    };
  }
}
