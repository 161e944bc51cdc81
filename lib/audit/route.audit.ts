import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { InjectVoxKeyOptions } from '../decorators/inject-voxkey-options.decorator.js';
import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import { ScopesGuard } from '../guards/scopes.guard.js';
import { VoxKeyAuthGuard } from '../guards/voxkey-auth.guard.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type {
  VoxKeyAuditFinding,
  VoxKeyRoute,
  VoxKeyRouteAccess,
} from '../interfaces/route-audit.interface.js';
import { type RouteMetadata, routeMetadataOf } from '../utils/route-metadata.util.js';
import { type DiscoveredHandler, discoveredHandlers } from './discovered-handlers.util.js';
import { fieldResolversGuarded } from './graphql-field.audit.js';
import { declaresGuard, hasGlobalGuard } from './guard-coverage.util.js';
import { HandlerAudit } from './handler.audit.js';
import { controllerTargets, providerTargets, type RouteTarget } from './route-targets.util.js';

const CONTEXT_ORDER: readonly VoxKeyRoute['context'][] = ['http', 'graphql', 'ws', 'rpc'];

/** Counted in every summary, in this order; the others only when there are some. */
const SUMMARY: readonly VoxKeyRouteAccess[] = [
  'public',
  'optional',
  'scoped',
  'any-token',
  'unguarded',
];
const SUMMARY_EXTRA: readonly VoxKeyRouteAccess[] = ['denied', 'via-parent'];

/** One route as the rules read it: its entry, its class and whether it is a field resolver. */
interface AuditedRoute {
  readonly entry: VoxKeyRoute;
  readonly cls: () => unknown;
  readonly field: boolean;
  /** HTTP: the path, sorted on before the verb; else the route. */
  readonly sortKey: string;
}

/** Which guards reach handlers without their own `@UseGuards()`. */
interface Coverage {
  /** `VoxKeyAuthGuard` is a global guard. */
  readonly auth: boolean;
  /** `ScopesGuard` is a global guard. */
  readonly scopes: boolean;
  /** Guards run on GraphQL field resolvers. */
  readonly fields: boolean;
  /** `Class.method` of the handlers `HandlerAudit` found outside the global guards. */
  readonly holes: ReadonlySet<string>;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Lists, at start-up, every HTTP route, GraphQL root field and field resolver, gateway message
 * and microservice pattern with the decision the guards make on it, logs a one-line summary
 * (`VoxKey routes: 42 — 3 public, 1 optional, 30 scoped, 6 any-token, 2 unguarded`), and
 * reports probable mistakes with their fix: a handler no `VoxKeyAuthGuard` reaches (among them
 * the handlers NestJS leaves outside global guards, found by `HandlerAudit`), scopes that
 * `ScopesGuard` never checks, a handler taking any token among scoped ones, and with
 * `audit.requireScopes` every handler taking any token. `audit.mode` says what a finding does:
 * `'warn'` logs it, `'strict'` stops the application, `'off'` says nothing.
 *
 * Inject it to show the list (a `/debug/routes` page) or to snapshot it in a test.
 *
 * @example
 * const audit = app.get(VoxKeyRouteAudit);
 * expect(audit.routes()).toMatchSnapshot();
 * expect(audit.findings()).toEqual([]);
 * @publicApi
 */
@Injectable()
export class VoxKeyRouteAudit implements OnApplicationBootstrap {
  private readonly logger = new Logger('VoxKeyAudit');
  private reported = false;
  private audited?: { routes: readonly VoxKeyRoute[]; findings: readonly VoxKeyAuditFinding[] };

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly handlers: HandlerAudit,
    @InjectVoxKeyOptions() private readonly options: ResolvedVoxKeyOptions,
  ) {}

  onApplicationBootstrap(): void {
    // NestJS 12.5's `NestMicroservice.init()` calls the bootstrap hooks twice: report once.
    if (this.options.audit.mode === 'off' || this.reported) return;
    this.reported = true;
    const findings = this.findings();
    this.logger.log(this.summary());
    for (const route of this.routes()) this.logger.debug(describeRoute(route));
    if (findings.length === 0) return;
    if (this.options.audit.mode === 'strict') {
      throw new VoxKeyConfigError(
        `the route audit (audit.mode 'strict') found ${findings.length} probable mistake(s): ${findings.map((finding) => finding.message).join('; ')}`,
      );
    }
    for (const finding of findings) this.logger.warn(finding.message);
  }

  /**
   * Every route with its decision, sorted by context (HTTP, GraphQL, gateways, microservices),
   * then path (HTTP) or route, then verb and handler: the same list on every start, for
   * snapshot tests.
   */
  routes(): readonly VoxKeyRoute[] {
    return this.audit().routes;
  }

  /** The probable mistakes, in the order of `routes()`, less those `audit.ignore` names. */
  findings(): readonly VoxKeyAuditFinding[] {
    return this.audit().findings;
  }

  /** `VoxKey routes: 42 — 3 public, 1 optional, 30 scoped, 6 any-token, 2 unguarded; 2 findings`. */
  summary(): string {
    const routes = this.routes();
    const count = (access: VoxKeyRouteAccess) =>
      routes.filter((route) => route.access === access).length;
    const parts = [
      ...SUMMARY.map((access) => `${count(access)} ${access}`),
      ...SUMMARY_EXTRA.filter((access) => count(access) > 0).map(
        (access) => `${count(access)} ${access}`,
      ),
    ];
    const findings = this.findings().length;
    return `VoxKey routes: ${routes.length} — ${parts.join(', ')}; ${findings} finding${findings === 1 ? '' : 's'}`;
  }

  /** The list and its findings, worked out once: decorators and guards do not change after start-up. */
  private audit(): NonNullable<VoxKeyRouteAudit['audited']> {
    if (this.audited === undefined) {
      // What NestJS leaves outside global guards, as `HandlerAudit` finds it.
      const holes = this.handlers.findings();
      const routes = this.list(new Set(holes.map((finding) => finding.handler)));
      this.audited = {
        routes: Object.freeze(routes.map(({ entry }) => entry)),
        findings: Object.freeze(this.check(routes, holes)),
      };
    }
    return this.audited;
  }

  private list(holes: ReadonlySet<string>): AuditedRoute[] {
    const providers = this.discovery.getProviders();
    const coverage: Coverage = {
      auth: hasGlobalGuard(providers, VoxKeyAuthGuard),
      scopes: hasGlobalGuard(providers, ScopesGuard),
      fields: fieldResolversGuarded(providers),
      holes,
    };
    const found: [DiscoveredHandler, RouteTarget][] = [];
    for (const handler of discoveredHandlers(this.discovery.getControllers(), this.scanner)) {
      for (const target of controllerTargets(this.reflector, handler))
        found.push([handler, target]);
    }
    for (const handler of discoveredHandlers(providers, this.scanner)) {
      for (const target of providerTargets(this.reflector, handler)) found.push([handler, target]);
    }
    const routes = new Map<string, AuditedRoute>();
    // A class provided by two modules is one route; two classes of the same name are two.
    const seen = new Map<object, Set<string>>();
    let index = 0;
    for (const [handler, target] of found) {
      const name = `${handler.cls.name}.${handler.name}`;
      const targetKey = `${target.context} ${target.route} ${String(target.version)} ${handler.name}`;
      const ofClass = seen.get(handler.cls) ?? new Set<string>();
      seen.set(handler.cls, ofClass);
      if (ofClass.has(targetKey)) continue;
      ofClass.add(targetKey);
      const key = `${targetKey} ${name} #${index++}`;
      const meta = routeMetadataOf(this.reflector, handler.handler, handler.cls);
      routes.set(key, {
        entry: entryOf(name, target, this.accessOf(handler, target, meta, coverage), meta),
        cls: handler.cls,
        field: target.field === true,
        sortKey: target.path ?? target.route,
      });
    }
    return [...routes.values()].sort(
      (a, b) =>
        CONTEXT_ORDER.indexOf(a.entry.context) - CONTEXT_ORDER.indexOf(b.entry.context) ||
        compare(a.sortKey, b.sortKey) ||
        compare(a.entry.route, b.entry.route) ||
        compare(String(a.entry.version), String(b.entry.version)) ||
        compare(a.entry.handler, b.entry.handler),
    );
  }

  /** The decision on one route: the decorators, then which guards reach the handler, then `contexts`. */
  private accessOf(
    found: DiscoveredHandler,
    target: RouteTarget,
    meta: RouteMetadata,
    coverage: Coverage,
  ): VoxKeyRouteAccess {
    const { handler, cls, name } = found;
    if (meta.mode === 'public') return 'public';
    if (target.field === true && !coverage.fields) return 'via-parent';
    // Where NestJS keeps global guards away, only the handler's own @UseGuards() count.
    const global = this.handlers.outsideGlobalGuards(found) === undefined;
    const reaches = (guard: typeof VoxKeyAuthGuard | typeof ScopesGuard, globally: boolean) =>
      (global && globally) || declaresGuard(this.reflector, handler, cls, guard);
    if (coverage.holes.has(`${cls.name}.${name}`) || !reaches(VoxKeyAuthGuard, coverage.auth)) {
      return 'unguarded';
    }
    if (target.context !== 'http' && this.options.contexts[target.context] === false) {
      return 'denied';
    }
    if (meta.mode === 'optional') return 'optional';
    const scoped = meta.scopes.all.length > 0 || meta.scopes.anyOf.length > 0;
    // Scopes no ScopesGuard checks let any valid token through: reported as such.
    return scoped && reaches(ScopesGuard, coverage.scopes) ? 'scoped' : 'any-token';
  }

  /** The findings on `routes` and `holes`, one per handler and rule, in the routes' order. */
  private check(
    routes: readonly AuditedRoute[],
    holes: readonly VoxKeyAuditFinding[],
  ): VoxKeyAuditFinding[] {
    const { requireScopes, ignore } = this.options.audit;
    const findings: VoxKeyAuditFinding[] = [];
    const seen = new Set<string>();
    const add = (handler: string, rule: VoxKeyAuditFinding['rule'], message: string) => {
      if (seen.has(`${handler} ${rule}`)) return;
      seen.add(`${handler} ${rule}`);
      findings.push({ handler, rule, message });
    };
    // Handlers (not field resolvers) that need a token and that a guard reaches, by class.
    const checkedByClass = new Map<() => unknown, Map<string, VoxKeyRouteAccess>>();
    for (const { entry, cls, field } of routes) {
      if (field || (entry.access !== 'scoped' && entry.access !== 'any-token')) continue;
      const byHandler = checkedByClass.get(cls) ?? new Map<string, VoxKeyRouteAccess>();
      checkedByClass.set(cls, byHandler);
      byHandler.set(entry.handler, entry.access);
    }
    for (const { entry, cls, field } of routes) {
      const where = `${entry.handler} (${routesOf(routes, entry.handler)})`;
      const hole = holes.filter((finding) => finding.handler === entry.handler);
      for (const finding of hole) add(finding.handler, finding.rule, finding.message);
      if (entry.access === 'unguarded' && hole.length === 0) {
        add(
          entry.handler,
          'unguarded',
          `${where}: no VoxKeyAuthGuard reaches it (globalGuard: false, and none in @UseGuards() on it or its class), so nothing checks its calls; add @UseGuards(VoxKeyAuthGuard, ScopesGuard) to ${cls.name}, or @Public() if it is meant to be open`,
        );
      }
      if (entry.access !== 'any-token') continue;
      if (entry.scopes.length > 0 || entry.anyOf.length > 0) {
        add(
          entry.handler,
          'unchecked-scopes',
          `${where}: it declares scopes but ScopesGuard does not run on it, so any valid token passes; add ScopesGuard after VoxKeyAuthGuard: @UseGuards(VoxKeyAuthGuard, ScopesGuard)`,
        );
      } else if (field) {
        // A field resolver is reached through its parent: the next two rules are about entry points.
        continue;
      } else if (requireScopes) {
        add(
          entry.handler,
          'scopes-required',
          `${where}: it accepts any valid token, and audit.requireScopes is set; add @Scopes(...) or @AnyScope(...), @Public() if it is meant to be open, or list it in audit.ignore`,
        );
      } else {
        const others = [...(checkedByClass.get(cls) ?? [])].filter(([h]) => h !== entry.handler);
        if (others.length > 0 && others.every(([, access]) => access === 'scoped')) {
          add(
            entry.handler,
            'any-token-among-scoped',
            `${where}: it accepts any valid token while every other handler of ${cls.name} requires scopes; add @Scopes(...) or @AnyScope(...), or list it in audit.ignore if any token will do`,
          );
        }
      }
    }
    // A hole on a method that is not a route of its kind (a pattern on a provider) still counts.
    for (const finding of holes) add(finding.handler, finding.rule, finding.message);
    return findings.filter(
      (finding) =>
        !ignore.includes(finding.handler) && !ignore.includes(finding.handler.split('.')[0]),
    );
  }
}

/** The public entry of a route: what the guards require, absent fields left out. */
function entryOf(
  handler: string,
  target: RouteTarget,
  access: VoxKeyRouteAccess,
  meta: RouteMetadata,
): VoxKeyRoute {
  // `@Public()` and `@OptionalAuth()` override the class's requirements: none are applied.
  const required = meta.mode === 'required';
  return Object.freeze({
    handler,
    context: target.context,
    route: target.route,
    access,
    scopes: Object.freeze(required ? [...meta.scopes.all] : []),
    anyOf: Object.freeze(required ? meta.scopes.anyOf.map((list) => Object.freeze([...list])) : []),
    requireActive: required && meta.requireActive,
    ...(meta.realms !== undefined && { realm: meta.realms }),
    ...(meta.resource !== undefined && { resource: meta.resource }),
    ...(target.version !== undefined && { version: target.version }),
  });
}

/** The routes of one handler, for its findings: `GET /a, GET /b`. */
function routesOf(routes: readonly AuditedRoute[], handler: string): string {
  return routes
    .filter(({ entry }) => entry.handler === handler)
    .map(({ entry }) => entry.route)
    .join(', ');
}

/** One debug line: `GET /posts/:id PostsController.get: scopes [read:posts]`. */
function describeRoute(route: VoxKeyRoute): string {
  const details = [
    route.access === 'scoped'
      ? [
          route.scopes.length > 0 ? `scopes [${route.scopes.join(', ')}]` : '',
          ...route.anyOf.map((list) => `any of [${list.join(', ')}]`),
        ]
          .filter(Boolean)
          .join(' ')
      : route.access,
    route.requireActive ? 'active token' : '',
    route.realm === undefined
      ? ''
      : 'ids' in route.realm
        ? `realm ${route.realm.ids.join(', ')}`
        : `realm from :${route.realm.param}`,
    route.resource === undefined ? '' : `resource ${route.resource}`,
    route.version === undefined ? '' : `version ${[route.version].flat().join(', ')}`,
  ].filter(Boolean);
  return `${route.route} ${route.handler}: ${details.join('; ')}`;
}
