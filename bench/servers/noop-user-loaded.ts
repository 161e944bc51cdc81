// Experiment: `noop-user.ts` in a process that also runs VoxKeyModule (strategy registered, key
// set fetched, its guards not applied): what loading and running the library costs the requests
// that do not use it.
import 'reflect-metadata';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  Module,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { VoxKeyModule } from '../../lib/index';
import { env, listenNest, POSTS } from './common';

const TOKEN = Symbol.for('voxkey:extracted-token');
const CLAIMS = {
  iss: 'https://bench.voxkey.test/oauth2/realm',
  sub: 'test-user',
  aud: 'https://bench-api.voxkey.test',
  iat: 1,
  exp: 2,
  jti: 'jti',
  client_id: 'test-client',
  scope: 'openid read:posts',
};

type RequestLike = Record<string | symbol, unknown> & { headers: Record<string, string> };

@Injectable()
class SetUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<RequestLike>();
    request[TOKEN] = (request.headers.authorization ?? '').slice(7);
    request.user = { ...CLAIMS };
    return true;
  }
}

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
  imports: [
    VoxKeyModule.forRoot({
      domain: env.domain,
      realm: env.realm,
      audience: env.audience,
      globalGuard: false,
    }),
  ],
  controllers: [PostsController],
  providers: [
    { provide: APP_GUARD, useClass: SetUserGuard },
    { provide: APP_GUARD, useClass: AllowGuard },
  ],
})
class AppModule {}

void NestFactory.create(AppModule, { logger: false }).then(listenNest);
