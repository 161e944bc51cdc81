// Experiment: the `voxkey` contender with the verified-token cache turned off.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Scopes, VoxKeyModule } from '../../lib/index';
import { env, listenNest, POSTS } from './common';

@Controller('posts')
class PostsController {
  @Get() @Scopes('read:posts') list() {
    return POSTS;
  }
}

@Module({
  imports: [
    VoxKeyModule.forRoot({
      domain: env.domain,
      realm: env.realm,
      audience: env.audience,
      tokenCache: { maxEntries: 0 },
    }),
  ],
  controllers: [PostsController],
})
class AppModule {}

void NestFactory.create(AppModule, { logger: false }).then(listenNest);
