import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectVoxKeyOptions } from '../decorators/inject-voxkey-options.decorator.js';
import {
  InsufficientScopeException,
  MissingTokenException,
  UnsupportedContextException,
} from '../errors/bearer.exceptions.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { setResponseHeader } from '../utils/http-response.util.js';
import { RouteMetadataCache, type ScopeRequirements } from '../utils/route-metadata.util.js';
import { grantedScopes } from '../utils/scopes.util.js';

export type { ScopeRequirements } from '../utils/route-metadata.util.js';

/**
 * Enforces `@Scopes()` and `@AnyScope()` after `VoxKeyAuthGuard`: 403 `insufficient_scope`
 * when the token lacks a required scope. A route with scope requirements but no authenticated
 * user (the auth guard did not run) is refused, never let through.
 *
 * @example
 * // Per controller, with `globalGuard: false`; the order matters:
 * @UseGuards(VoxKeyAuthGuard, ScopesGuard)
 * @Controller('posts')
 * export class PostsController {}
 * @publicApi
 */
@Injectable()
export class ScopesGuard implements CanActivate {
  protected readonly logger = new Logger('ScopesGuard');

  private readonly routes: RouteMetadataCache;
  private readonly warned = new WeakSet<object>();

  constructor(
    protected readonly reflector: Reflector,
    @InjectVoxKeyOptions() protected readonly options: ResolvedVoxKeyOptions,
  ) {
    this.routes = new RouteMetadataCache(reflector);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.routes.get(context).isPublic) return true;
    const required = this.getRequirements(context);
    if (required.all.length === 0 && required.anyOf.length === 0) return true;
    if (context.getType() !== 'http') {
      // Once per handler: clients must not be able to flood the log.
      if (!this.warned.has(context.getHandler())) {
        this.warned.add(context.getHandler());
        this.logger.warn(
          `Denied a '${context.getType()}' handler: VoxKey checks scopes on HTTP routes only; mark the handler @Public() to allow it`,
        );
      }
      throw new UnsupportedContextException(context.getType());
    }

    const user = this.getUser(context);
    if (typeof user !== 'object' || user === null) {
      this.logger.error(
        'A route requires scopes but no VoxKey user is set: apply VoxKeyAuthGuard before ScopesGuard',
      );
      const exception = new MissingTokenException(this.options.challengeRealm);
      setResponseHeader(context, 'WWW-Authenticate', exception.wwwAuthenticate);
      throw exception;
    }
    const granted = grantedScopes(user as Record<string, unknown>);
    const missingAll = required.all.some((scope) => !granted.has(scope));
    const unmetAny = required.anyOf.filter((list) => !list.some((scope) => granted.has(scope)));
    if (!missingAll && unmetAny.length === 0) return true;

    const challenge = [...new Set([...required.all, ...unmetAny.flat()])].join(' ');
    const exception = new InsufficientScopeException(this.options.challengeRealm, challenge);
    this.logger.debug(`Rejected (403): token lacks a scope among "${challenge}"`);
    setResponseHeader(context, 'WWW-Authenticate', exception.wwwAuthenticate);
    throw exception;
  }

  /** The authenticated user whose scopes are checked; override to read it elsewhere. */
  protected getUser(context: ExecutionContext): unknown {
    return context.switchToHttp().getRequest<{ user?: unknown }>().user;
  }

  /** Scopes required by the handler and its controller together. */
  protected getRequirements(context: ExecutionContext): ScopeRequirements {
    return this.routes.get(context).scopes;
  }
}
