import { type DynamicModule, Module } from '@nestjs/common';
import { VoxKeyModule, type VoxKeyModuleOptions } from '@voxkey/nestjs';
import { PostsController } from './posts.controller';

@Module({})
export class AppModule {
  static withVoxKey(options: VoxKeyModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [VoxKeyModule.forRoot(options)],
      controllers: [PostsController],
    };
  }
}
