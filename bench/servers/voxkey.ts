// Contender: the same route protected by VoxKeyModule and @Scopes.
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
  imports: [VoxKeyModule.forRoot({ domain: env.domain, realm: env.realm, audience: env.audience })],
  controllers: [PostsController],
})
class AppModule {}

void NestFactory.create(AppModule, { logger: false }).then(listenNest);
