// Experiment: VoxKeyAuthGuard alone on the route (no @Scopes, no global ScopesGuard).
import 'reflect-metadata';
import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { VoxKeyAuthGuard, VoxKeyModule } from '../../lib/index';
import { env, listenNest, POSTS } from './common';

@Controller('posts')
@UseGuards(VoxKeyAuthGuard)
class PostsController {
  @Get() list() {
    return POSTS;
  }
}

@Module({
  imports: [
    VoxKeyModule.forRoot({
      domain: env.domain,
      realm: env.realm,
      audience: env.audience,
      globalGuard: false,
    }),
  ],
  controllers: [PostsController],
})
class AppModule {}

void NestFactory.create(AppModule, { logger: false }).then(listenNest);
