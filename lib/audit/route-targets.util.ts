import { RequestMethod, VERSION_NEUTRAL } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { VoxKeyRouteContext } from '../interfaces/route-audit.interface.js';
import type { DiscoveredHandler } from './discovered-handlers.util.js';
import {
  FIELD_RESOLVER,
  GATEWAY,
  MESSAGE_HANDLER,
  MESSAGE_NAME,
  MESSAGE_PATTERN,
  PATH,
  PATTERN_HANDLER,
  REQUEST_METHOD,
  RESOLVER_NAME,
  RESOLVER_TYPE,
  VERSION,
} from './nest-metadata.constants.js';

/** Where a handler is reached: one HTTP path, GraphQL field, gateway message or pattern. */
export interface RouteTarget {
  readonly context: VoxKeyRouteContext;
  readonly route: string;
  /** HTTP: the path template, sorted on before the verb. */
  readonly path?: string;
  readonly version?: string | readonly string[];
  /** A GraphQL field resolver (`@ResolveField()`), reached only through its parent. */
  readonly field?: boolean;
}

const ROOT_TYPES: readonly unknown[] = ['Query', 'Mutation', 'Subscription'];
const EVENT_HANDLER = 2;

function list<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** `posts` and `:id` give `/posts/:id`, as NestJS joins a controller's and a method's paths. */
function joinPath(...parts: string[]): string {
  return `/${parts
    .map((part) => part.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;
}

function versionOf(reflector: Reflector, { handler, cls }: DiscoveredHandler) {
  const version = reflector.getAllAndOverride<unknown>(VERSION, [handler, cls]);
  if (version === undefined) return undefined;
  const names = list(version).map((v) => (v === VERSION_NEUTRAL ? 'neutral' : String(v)));
  return names.length === 1 ? names[0] : names;
}

function patternName(pattern: unknown): string {
  return typeof pattern === 'string' ? pattern : JSON.stringify(pattern);
}

/**
 * Where a method of a controller is reached: an HTTP route per path of its class and of its
 * method decorator, or a microservice pattern per pattern; none for any other method.
 */
export function controllerTargets(reflector: Reflector, found: DiscoveredHandler): RouteTarget[] {
  const { cls, handler } = found;
  const method = reflector.get<RequestMethod | undefined>(REQUEST_METHOD, handler);
  if (method !== undefined) {
    const verb = RequestMethod[method] ?? String(method);
    const version = versionOf(reflector, found);
    const prefixes = list(reflector.get<string | string[] | undefined>(PATH, cls));
    const paths = list(reflector.get<string | string[] | undefined>(PATH, handler));
    return (prefixes.length > 0 ? prefixes : ['']).flatMap((prefix) =>
      (paths.length > 0 ? paths : ['']).map((path) => {
        const full = joinPath(prefix, path);
        return { context: 'http', route: `${verb} ${full}`, path: full, version };
      }),
    );
  }
  const patterns = reflector.get<unknown[] | undefined>(MESSAGE_PATTERN, handler);
  if (patterns === undefined) return [];
  const kind =
    reflector.get<unknown>(PATTERN_HANDLER, handler) === EVENT_HANDLER ? 'event' : 'message';
  return list(patterns).map((pattern) => ({
    context: 'rpc',
    route: `${kind} ${patternName(pattern)}`,
  }));
}

/**
 * Where a method of a provider is reached: a gateway's `@SubscribeMessage()`, a resolver's root
 * field (`Query.posts`) or field resolver (`Post.author`); none for any other method.
 */
export function providerTargets(
  reflector: Reflector,
  { cls, name, handler }: DiscoveredHandler,
): RouteTarget[] {
  if (
    reflector.get<unknown>(GATEWAY, cls) === true &&
    reflector.get<unknown>(MESSAGE_HANDLER, handler) === true
  ) {
    return [
      {
        context: 'ws',
        route: `message ${patternName(reflector.get<unknown>(MESSAGE_NAME, handler))}`,
      },
    ];
  }
  const field = reflector.get<unknown>(RESOLVER_NAME, handler);
  const fieldName = typeof field === 'string' ? field : name;
  if (reflector.get<unknown>(FIELD_RESOLVER, handler) === true) {
    const parent = reflector.get<unknown>(RESOLVER_TYPE, cls);
    const type = typeof parent === 'string' ? parent : cls.name;
    return [{ context: 'graphql', route: `${type}.${fieldName}`, field: true }];
  }
  const root = reflector.get<unknown>(RESOLVER_TYPE, handler);
  if (ROOT_TYPES.includes(root)) {
    return [{ context: 'graphql', route: `${String(root)}.${fieldName}` }];
  }
  return [];
}
