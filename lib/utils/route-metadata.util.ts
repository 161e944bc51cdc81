import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { RealmBinding } from '../decorators/realm.decorator.js';
import {
  ANY_SCOPE_METADATA,
  REALM_BINDING_METADATA,
  PUBLIC_METADATA,
  REQUIRE_ACTIVE_METADATA,
  SCOPES_METADATA,
} from '../voxkey.constants.js';

/** What a route demands: every scope of `all`, and one scope of each list in `anyOf`. */
export interface ScopeRequirements {
  readonly all: readonly string[];
  readonly anyOf: readonly (readonly string[])[];
}

/** What the VoxKey decorators say of one route, its handler and its controller together. */
export interface RouteMetadata {
  /** `@Public()` on the handler or the controller. */
  readonly isPublic: boolean;
  /** `@RequireActiveToken()` on the handler or the controller. */
  readonly requireActive: boolean;
  /** `@Scopes()` and `@AnyScope()`, controller and handler added up. */
  readonly scopes: ScopeRequirements;
  /** `@Realm()` or `@RealmFromParam()`, the handler's over the controller's. */
  readonly realms: RealmBinding | undefined;
}

function readRoute(reflector: Reflector, context: ExecutionContext): RouteMetadata {
  const targets = [context.getHandler(), context.getClass()];
  const all = new Set<string>();
  const anyOf: string[][] = [];
  for (const target of [context.getClass(), context.getHandler()]) {
    for (const list of reflector.get<string[][] | undefined>(SCOPES_METADATA, target) ?? []) {
      for (const scope of list) all.add(scope);
    }
    anyOf.push(...(reflector.get<string[][] | undefined>(ANY_SCOPE_METADATA, target) ?? []));
  }
  return {
    isPublic: reflector.getAllAndOverride<boolean | undefined>(PUBLIC_METADATA, targets) === true,
    requireActive:
      reflector.getAllAndOverride<boolean | undefined>(REQUIRE_ACTIVE_METADATA, targets) === true,
    scopes: { all: [...all], anyOf },
    realms: reflector.getAllAndOverride<RealmBinding | undefined>(REALM_BINDING_METADATA, targets),
  };
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
      byHandler.set(context.getHandler(), (route = readRoute(this.reflector, context)));
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
