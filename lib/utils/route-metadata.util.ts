import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { RealmBinding } from '../decorators/realm.decorator.js';
import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import {
  ANY_SCOPE_METADATA,
  AUTH_MODE_METADATA,
  REALM_BINDING_METADATA,
  REQUIRE_ACTIVE_METADATA,
  RESOURCE_METADATA,
  SCOPES_METADATA,
} from '../voxkey.constants.js';

/**
 * What `@Public()` and `@OptionalAuth()` store: `public` never reads a token; `optional` runs
 * the handler without a user when there is none, and `invalidToken` says what a token that fails
 * a check does (`reject`: refused as on any route; `anonymous`: the call goes on without a user).
 */
export type AuthModeMetadata =
  | { readonly mode: 'public' }
  | { readonly mode: 'optional'; readonly invalidToken: 'reject' | 'anonymous' };

/** A route's authentication mode: `required` unless `@Public()` or `@OptionalAuth()` says otherwise. */
export type RouteAuthMode = AuthModeMetadata['mode'] | 'required';

/** What a route demands: every scope of `all`, and one scope of each list in `anyOf`. */
export interface ScopeRequirements {
  readonly all: readonly string[];
  readonly anyOf: readonly (readonly string[])[];
}

/** What the VoxKey decorators say of one route, its handler and its controller together. */
export interface RouteMetadata {
  /** `@Public()` or `@OptionalAuth()`, the handler's over the controller's; else `required`. */
  readonly mode: RouteAuthMode;
  /** `@OptionalAuth({ invalidToken: 'anonymous' })`: a token that fails a check makes the call anonymous. */
  readonly anonymousOnInvalid: boolean;
  /** `@RequireActiveToken()` on the handler or the controller. */
  readonly requireActive: boolean;
  /** `@Scopes()` and `@AnyScope()`, controller and handler added up. */
  readonly scopes: ScopeRequirements;
  /** `@Realm()` or `@RealmFromParam()`, the handler's over the controller's. */
  readonly realms: RealmBinding | undefined;
  /** `@Resource()`, the handler's over the controller's. */
  readonly resource: string | undefined;
}

/** What metadata is read from: a handler (a method) or its class. */
type MetadataTarget = Parameters<Reflector['getAllAndOverride']>[1][number];

/**
 * The VoxKey metadata of `handler` under the controller (or resolver, gateway) `cls`, as the
 * guards apply it; the start-up route audit reads it the same way.
 */
export function routeMetadataOf(
  reflector: Reflector,
  handler: MetadataTarget,
  cls: MetadataTarget,
): RouteMetadata {
  const targets = [handler, cls];
  const all = new Set<string>();
  const anyOf: string[][] = [];
  for (const target of [cls, handler]) {
    for (const list of reflector.get<string[][] | undefined>(SCOPES_METADATA, target) ?? []) {
      for (const scope of list) all.add(scope);
    }
    anyOf.push(...(reflector.get<string[][] | undefined>(ANY_SCOPE_METADATA, target) ?? []));
  }
  const auth = authModeOf(reflector, targets);
  return {
    mode: auth?.mode ?? 'required',
    anonymousOnInvalid: auth?.mode === 'optional' && auth.invalidToken === 'anonymous',
    requireActive:
      reflector.getAllAndOverride<boolean | undefined>(REQUIRE_ACTIVE_METADATA, targets) === true,
    scopes: { all: [...all], anyOf },
    realms: reflector.getAllAndOverride<RealmBinding | undefined>(REALM_BINDING_METADATA, targets),
    resource: reflector.getAllAndOverride<string | undefined>(RESOURCE_METADATA, targets),
  };
}

/** The authentication mode of the first of `targets` (handler, then class) that declares one. */
export function authModeOf(
  reflector: Reflector,
  targets: Parameters<Reflector['getAllAndOverride']>[1],
): AuthModeMetadata | undefined {
  return reflector.getAllAndOverride<AuthModeMetadata | undefined>(AUTH_MODE_METADATA, targets);
}

/**
 * A route's VoxKey metadata, read once per (controller, handler): decorators do not change at
 * run time, and reading them on every request was a measurable share of a cached request
 * (bench/README.md). Keyed by class, then handler: an inherited handler can sit under
 * controllers with different class-level metadata.
 */
export class RouteMetadataCache {
  private readonly byClass = new WeakMap<object, WeakMap<object, RouteMetadata>>();

  constructor(private readonly reflector: Reflector) {}

  get(context: ExecutionContext): RouteMetadata {
    const cls = context.getClass();
    let byHandler = this.byClass.get(cls);
    if (byHandler === undefined) this.byClass.set(cls, (byHandler = new WeakMap()));
    let route = byHandler.get(context.getHandler());
    if (route === undefined) {
      byHandler.set(
        context.getHandler(),
        (route = routeMetadataOf(this.reflector, context.getHandler(), cls)),
      );
    }
    return route;
  }
}

/**
 * A class or method decorator that appends `entry` to the list stored under `key`, instead of
 * replacing it as `SetMetadata` would: stacked scope decorators must all apply, never only the
 * outermost one. A subclass starts from its parent's list, so it can add requirements, not drop them.
 */
export function appendMetadata<T>(key: string, entry: T): MethodDecorator & ClassDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = (descriptor?.value ?? target) as object;
    const existing = (Reflect.getMetadata(key, holder) as T[] | undefined) ?? [];
    Reflect.defineMetadata(key, [...existing, entry], holder);
  };
}

/**
 * A class or method decorator that stores a route's authentication mode. One target may declare
 * one mode: `@Public() @OptionalAuth()` on one handler throws when the class is defined, naming
 * it, rather than letting the outer decorator silently win.
 */
export function authModeDecorator(auth: AuthModeMetadata): MethodDecorator & ClassDecorator {
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = (descriptor?.value ?? target) as object;
    const existing = Reflect.getOwnMetadata(AUTH_MODE_METADATA, holder) as
      AuthModeMetadata | undefined;
    if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(auth)) {
      const where =
        key === undefined
          ? (target as { name: string }).name
          : `${(target as { constructor: { name: string } }).constructor.name}.${String(key)}`;
      throw new VoxKeyConfigError(
        `${where} declares two authentication modes (@Public(), @OptionalAuth()); keep one`,
      );
    }
    Reflect.defineMetadata(AUTH_MODE_METADATA, auth, holder);
  };
}
