// Contender: NestJS with Auth0's express-oauth2-jwt-bearer (auth + requiredScopes) in a guard.
import 'reflect-metadata';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  ForbiddenException,
  Get,
  Injectable,
  Module,
  UnauthorizedException,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { Request, RequestHandler, Response } from 'express';
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer';
import { env, listenNest, POSTS } from './common';

const checkJwt = auth({
  issuer: env.issuer,
  jwksUri: env.jwksUri,
  audience: env.audience,
  tokenSigningAlg: 'RS256',
});
const checkScopes = requiredScopes('read:posts');

function run(middleware: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) =>
    middleware(req, res, (error?: unknown) => (error ? reject(error) : resolve())),
  );
}

@Injectable()
class Auth0Guard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const [req, res] = [http.getRequest<Request>(), http.getResponse<Response>()];
    try {
      await run(checkJwt, req, res);
    } catch {
      throw new UnauthorizedException();
    }
    try {
      await run(checkScopes, req, res);
    } catch {
      throw new ForbiddenException();
    }
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
  providers: [{ provide: APP_GUARD, useClass: Auth0Guard }],
})
class AppModule {}

void NestFactory.create(AppModule, { logger: false }).then(listenNest);
