// Contender: a bare NestJS route, no authentication. The baseline of every ratio.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { listenNest, POSTS } from './common';

@Controller('posts')
class PostsController {
  @Get() list() {
    return POSTS;
  }
}

@Module({ controllers: [PostsController] })
class AppModule {}

void NestFactory.create(AppModule, { logger: false }).then(listenNest);
