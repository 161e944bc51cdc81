// Not a contender: the floor of two global NestJS guards that do nothing, to see what Nest's
// guard machinery alone costs per request compared with the bare route.
import 'reflect-metadata';
import { type CanActivate, Controller, Get, Injectable, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { listenNest, POSTS } from './common';

@Injectable()
class AllowGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Controller('posts')
class PostsController {
  @Get() list() {
    return POSTS;
  }
}

@Module({
  controllers: [PostsController],
  providers: [
    { provide: APP_GUARD, useClass: AllowGuard },
    { provide: APP_GUARD, useClass: AllowGuard },
  ],
})
class AppModule {}

void NestFactory.create(AppModule, { logger: false }).then(listenNest);
