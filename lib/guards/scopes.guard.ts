import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InsufficientScopeException,
  MissingTokenException,
  UnsupportedContextException,
} from '../errors/bearer.exceptions.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { httpRequestOf } from '../utils/http-context.js';
import { setResponseHeader } from '../utils/http-response.util.js';
import { isPublicRoute } from '../utils/reflect.util.js';
import { RouteMemo } from '../utils/route-metadata.js';
import { grantedScopes } from '../utils/scopes.util.js';
import {
  ANY_SCOPE_METADATA,
  SCOPES_METADATA,
  VOXKEY_RESOLVED_OPTIONS,
} from '../voxkey.constants.js';

/** What a route demands: every scope of `all`, and one scope of each list in `anyOf`. */
export interface ScopeRequirements {
  readonly all: readonly string[];
  readonly anyOf: readonly (readonly string[])[];
}

/**
 * Enforces `@Scopes()` and `@AnyScope()` after `VoxKeyAuthGuard`: 403 `insufficient_scope`
 * when the token lacks a required scope. A route with scope requirements but no authenticated
 * user (the auth guard did not run) is refused, never let through.
 */
@Injectable()
export class ScopesGuard implements CanActivate {
  protected readonly logger = new Logger('ScopesGuard');

  constructor(
    protected readonly reflector: Reflector,
    @Inject(VOXKEY_RESOLVED_OPTIONS) protected readonly options: ResolvedVoxKeyOptions,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.getRequirements(context);
    if (required.isPublic ?? isPublicRoute(this.reflector, context)) return true;
    if (required.all.length === 0 && required.anyOf.length === 0) return true;
    if (context.getType() !== 'http') throw new UnsupportedContextException(context.getType());

    const user = this.getUser(context);
    if (typeof user !== 'object' || user === null) {
      this.logger.error(
        'A route requires scopes but no VoxKey user is set: apply VoxKeyAuthGuard before ScopesGuard',
      );
      const exception = new MissingTokenException(this.options.challengeRealm);
      setResponseHeader(context, 'WWW-Authenticate', exception.wwwAuthenticate);
      throw exception;
    }
    const granted = this.granted(user as Record<string, unknown>);
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
    return httpRequestOf<{ user?: unknown }>(context).user;
  }

  /** Requirements per route, computed once: the decorators do not change at run time. */
  private routes: RouteMemo<ScopeRequirements & { isPublic: boolean }> | undefined;

  /** Scopes required by the handler and its controller together (and whether it is public). */
  protected getRequirements(context: ExecutionContext): ScopeRequirements & { isPublic?: boolean } {
    this.routes ??= new RouteMemo((ctx) => {
      const all = new Set<string>();
      const anyOf: string[][] = [];
      for (const target of [ctx.getClass(), ctx.getHandler()]) {
        for (const list of this.reflector.get<string[][] | undefined>(SCOPES_METADATA, target) ??
          []) {
          for (const scope of list) all.add(scope);
        }
        anyOf.push(
          ...(this.reflector.get<string[][] | undefined>(ANY_SCOPE_METADATA, target) ?? []),
        );
      }
      return { all: [...all], anyOf, isPublic: isPublicRoute(this.reflector, ctx) };
    });
    return this.routes.get(context);
  }

  /** Parsed scope sets by `scope` claim text: many tokens carry the same few scope strings. */
  private readonly parsedScopes = new Map<string, ReadonlySet<string>>();

  private granted(claims: Record<string, unknown>): ReadonlySet<string> {
    const { scope } = claims;
    if (typeof scope !== 'string') return grantedScopes(claims);
    let set = this.parsedScopes.get(scope);
    if (!set) {
      if (this.parsedScopes.size >= 1_000) this.parsedScopes.clear();
      this.parsedScopes.set(scope, (set = grantedScopes(claims)));
    }
    return set;
  }
}
