// Shared by the floor experiments (noop-guards, noop-user, noop-user-loaded): guards that check
// nothing, the route they guard, and the module around them.
import {
  type CanActivate,
  Controller,
  type DynamicModule,
  type ExecutionContext,
  Get,
  Injectable,
  Module,
  type Type,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { POSTS } from './common';

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

/** Allows everything. */
@Injectable()
export class AllowGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

/**
 * Allows everything, after doing what any authentication guard must do: read the Authorization
 * header and set `req.user` to a claims object of its own.
 */
@Injectable()
export class SetUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<RequestLike>();
    if (!request.headers.authorization) return false;
    request.user = { ...CLAIMS };
    return true;
  }
}

@Controller('posts')
class PostsController {
  @Get() list() {
    return POSTS;
  }
}

/** The application module: two global guards in this order, and any extra imports. */
export function floorModule(
  guards: [Type<CanActivate>, Type<CanActivate>],
  imports: DynamicModule[] = [],
): Type {
  @Module({
    imports,
    controllers: [PostsController],
    providers: guards.map((useClass) => ({ provide: APP_GUARD, useClass })),
  })
  class AppModule {}
  return AppModule;
}
