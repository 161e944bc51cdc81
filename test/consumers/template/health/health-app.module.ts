import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { VoxKeyModule, type VoxKeyModuleOptions } from '@voxkey/nestjs';
import { HealthController } from './health.controller';
import { PostsController } from './posts.controller';

@Module({})
export class HealthAppModule {
  static withVoxKey(options: VoxKeyModuleOptions): DynamicModule {
    return {
      module: HealthAppModule,
      imports: [VoxKeyModule.forRoot(options), TerminusModule],
      controllers: [PostsController, HealthController],
    };
  }
}
