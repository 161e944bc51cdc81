// Contender: the usual recipe from the NestJS docs and Auth0's NestJS guide: passport-jwt with
// jwks-rsa's passportJwtSecret, AuthGuard('jwt'), and a small scopes guard.
import 'reflect-metadata';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  ForbiddenException,
  Get,
  Injectable,
  Module,
  SetMetadata,
} from '@nestjs/common';
import { APP_GUARD, NestFactory, Reflector } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { env, listenNest, POSTS } from './common';

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      secretOrKeyProvider: passportJwtSecret({
        cache: true,
        rateLimit: true,
        jwksRequestsPerMinute: 5,
        jwksUri: env.jwksUri,
      }),
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      audience: env.audience,
      issuer: env.issuer,
      algorithms: ['RS256'],
    });
  }

  validate(payload: unknown): unknown {
    return payload;
  }
}

const RequiredScopes = (...scopes: string[]) => SetMetadata('scopes', scopes);

@Injectable()
class ScopesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.get<string[]>('scopes', context.getHandler()) ?? [];
    const user = context.switchToHttp().getRequest<{ user?: { scope?: string } }>().user;
    const granted = (user?.scope ?? '').split(' ');
    if (required.every((scope) => granted.includes(scope))) return true;
    throw new ForbiddenException('Insufficient scope');
  }
}

@Controller('posts')
class PostsController {
  @Get() @RequiredScopes('read:posts') list() {
    return POSTS;
  }
}

@Module({
  controllers: [PostsController],
  providers: [
    JwtStrategy,
    { provide: APP_GUARD, useClass: AuthGuard('jwt') },
    { provide: APP_GUARD, useClass: ScopesGuard },
  ],
})
class AppModule {}

void NestFactory.create(AppModule, { logger: false }).then(listenNest);
