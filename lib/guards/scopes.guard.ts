import {
  type CanActivate,
  type ExecutionContext,
  type HttpException,
  Injectable,
  Logger,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectVoxKeyOptions } from '../decorators/inject-voxkey-options.decorator.js';
import {
  InsufficientScopeException,
  MissingTokenException,
  UnsupportedContextException,
} from '../errors/bearer.exceptions.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { Transport } from '../transports/transport.js';
import { isEnabled, transportOf } from '../transports/transports.js';
import { RouteMetadataCache, type ScopeRequirements } from '../utils/route-metadata.util.js';
import { grantedScopes } from '../utils/scopes.util.js';
import { routeChallenge } from '../resource/route-resource.js';
import { authEventStart, publishRefused, soleRealm } from '../events/auth-event.util.js';
import type { VoxKeyEventContext } from '../events/voxkey-event.interface.js';

export type { ScopeRequirements } from '../utils/route-metadata.util.js';

/**
 * Enforces `@Scopes()` and `@AnyScope()` after `VoxKeyAuthGuard`: 403 `insufficient_scope`
 * when the token lacks a required scope. A route with scope requirements but no authenticated
 * user (the auth guard did not run) is refused, never let through. `@Public()` and
 * `@OptionalAuth()` routes have no scope requirements.
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

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    // `@Public()` and `@OptionalAuth()` routes demand no scopes (the start-up audit refuses any
    // on the same handler, and a handler's mode overrides its controller's scopes).
    if (this.routes.get(context).mode !== 'required') return true;
    const required = this.getRequirements(context);
    if (required.all.length === 0 && required.anyOf.length === 0) return true;
    // Undefined unless someone listens to the auth events: then no event is built.
    const started = authEventStart();
    const transport = transportOf(context);
    if (transport === undefined || !isEnabled(context, this.options)) {
      // Once per handler: clients must not be able to flood the log.
      if (!this.warned.has(context.getHandler())) {
        this.warned.add(context.getHandler());
        this.logger.warn(
          `Denied a '${context.getType()}' handler: VoxKey does not check scopes in this context here (see the 'contexts' option); mark the handler @Public() to allow it`,
        );
      }
      return this.refuse(
        context,
        transport,
        new UnsupportedContextException(context.getType()),
        started,
      );
    }

    const route = this.routes.get(context);
    const user = this.getUser(context);
    if (typeof user !== 'object' || user === null) {
      this.logger.error(
        'A handler requires scopes but no VoxKey user is set: apply VoxKeyAuthGuard before ScopesGuard',
      );
      return this.refuse(
        context,
        transport,
        new MissingTokenException(routeChallenge(route, this.options)),
        started,
      );
    }
    const granted = grantedScopes(user as Record<string, unknown>);
    const missingAll = required.all.some((scope) => !granted.has(scope));
    const unmetAny = required.anyOf.filter((list) => !list.some((scope) => granted.has(scope)));
    if (!missingAll && unmetAny.length === 0) return true;

    const challenge = [...new Set([...required.all, ...unmetAny.flat()])].join(' ');
    this.logger.debug(`Rejected (403): token lacks a scope among "${challenge}"`);
    return this.refuse(
      context,
      transport,
      new InsufficientScopeException(routeChallenge(route, this.options), challenge),
      started,
      started === undefined ? undefined : () => (user as { realm?: unknown }).realm,
    );
  }

  /**
   * Throws the refusal in the context's own form (on HTTP with its `WWW-Authenticate` challenge),
   * after its `auth.refused` event when the call was timed. The event names the user's realm;
   * without a user, the only realm when there is just one.
   */
  private async refuse(
    context: ExecutionContext,
    transport: Transport | undefined,
    refusal: HttpException,
    started: number | undefined,
    realmOfUser?: () => unknown,
  ): Promise<never> {
    if (started !== undefined) {
      // Only a configured realm id (an application's own user may carry anything there).
      let realm: unknown;
      try {
        realm = realmOfUser?.();
      } catch {
        realm = undefined;
      }
      const known = typeof realm === 'string' && this.options.realms.some((r) => r.id === realm);
      const named = known ? (realm as string) : soleRealm(this.options);
      publishRefused(context.getType<VoxKeyEventContext>(), refusal, named, started);
    }
    throw transport ? await transport.refuse(context, refusal) : refusal;
  }

  /** The authenticated user whose scopes are checked; override to read it elsewhere. */
  protected getUser(context: ExecutionContext): unknown {
    return transportOf(context)?.getUser(context);
  }

  /** Scopes required by the handler and its controller together. */
  protected getRequirements(context: ExecutionContext): ScopeRequirements {
    return this.routes.get(context).scopes;
  }
}
