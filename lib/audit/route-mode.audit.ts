import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { RealmBinding } from '../decorators/realm.decorator.js';
import { InjectVoxKeyOptions } from '../decorators/inject-voxkey-options.decorator.js';
import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { AuthModeMetadata } from '../utils/route-metadata.util.js';
import {
  ANY_SCOPE_METADATA,
  AUTH_MODE_METADATA,
  REALM_BINDING_METADATA,
  REQUIRE_ACTIVE_METADATA,
  RESOURCE_METADATA,
  SCOPES_METADATA,
} from '../voxkey.constants.js';
import { discoveredHandlers } from './discovered-handlers.util.js';
import { namedResource } from '../resource/route-resource.js';

const DECORATOR_OF_MODE: Readonly<Record<AuthModeMetadata['mode'], string>> = {
  public: '@Public()',
  optional: '@OptionalAuth()',
};

/**
 * At start-up, stops the application when a handler that does not require a token
 * (`@Public()`, `@OptionalAuth()`) also asks for `@Scopes()`, `@AnyScope()` or
 * `@RequireActiveToken()`: the guards would never apply them, and a route its author meant to
 * protect would be served to anyone. A requirement conflicts with a mode declared at the same
 * level (both on the handler, or both on the controller) or above it (the controller's mode and
 * the handler's requirement); a handler's own mode overrides its controller's requirements, as
 * `@Public()` on one route of a scoped controller does. HTTP controllers, resolvers, gateways
 * and microservice handlers alike; always on, whatever `audit` says. Also stops it when
 * `@Realm()` names a realm that is not configured (a typo would refuse every request), unless
 * `realmsProvider` may add it later, and when `@Resource()` names a resource that is not.
 */
@Injectable()
export class RouteModeAudit implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @InjectVoxKeyOptions() private readonly options: ResolvedVoxKeyOptions,
  ) {}

  onModuleInit(): void {
    const unknown = this.unknownRealms();
    if (unknown.length > 0) {
      throw new VoxKeyConfigError(
        `@Realm() names realms that are not configured: ${unknown.join('; ')}; check the ids against 'realms'`,
      );
    }
    const resources = this.unknownResources();
    if (resources.length > 0) {
      throw new VoxKeyConfigError(
        `@Resource() names resources that are not configured: ${resources.join('; ')}; check the URIs against 'resource' and 'resources'`,
      );
    }
    const findings = this.findings();
    if (findings.length === 0) return;
    throw new VoxKeyConfigError(
      `scope or active-token requirements on handlers that do not require a token, which the guards would never apply: ${findings.join('; ')}; remove them, or drop @Public()/@OptionalAuth() from the handler`,
    );
  }

  /** `Class.method (@OptionalAuth() with @Scopes())` for each handler in conflict. */
  findings(): string[] {
    const wrappers = [...this.discovery.getControllers(), ...this.discovery.getProviders()];
    const findings: string[] = [];
    const seen = new Set<string>();
    for (const { cls, name, handler } of discoveredHandlers(wrappers, this.scanner)) {
      const own = this.reflector.get<AuthModeMetadata | undefined>(AUTH_MODE_METADATA, handler);
      const auth = own ?? this.reflector.get<AuthModeMetadata | undefined>(AUTH_MODE_METADATA, cls);
      if (auth === undefined) continue;
      const requirements = this.requirementsOf(handler);
      // The controller's requirements meet only a mode of the controller's own.
      if (own === undefined) requirements.push(...this.requirementsOf(cls));
      const where = `${cls.name}.${name}`;
      if (requirements.length === 0 || seen.has(where)) continue;
      seen.add(where);
      const found = [...new Set(requirements)].join(', ');
      findings.push(`${where} (${DECORATOR_OF_MODE[auth.mode]} with ${found})`);
    }
    return findings;
  }

  /** `Class.method ('id')` for each `@Realm()` id that no configured realm has. */
  unknownRealms(): string[] {
    if (this.options.realmsProvider !== undefined) return [];
    const ids = new Set(this.options.realms.map((realm) => realm.id));
    const wrappers = [...this.discovery.getControllers(), ...this.discovery.getProviders()];
    const found = new Set<string>();
    for (const { cls, name, handler } of discoveredHandlers(wrappers, this.scanner)) {
      for (const [target, where] of [
        [handler, `${cls.name}.${name}`],
        [cls, cls.name],
      ] as const) {
        const binding = this.reflector.get<RealmBinding | undefined>(
          REALM_BINDING_METADATA,
          target,
        );
        if (binding === undefined || !('ids' in binding)) continue;
        for (const id of binding.ids) if (!ids.has(id)) found.add(`${where} ('${id}')`);
      }
    }
    return [...found];
  }

  /** `Class.method ('uri')` for each `@Resource()` URI (or id) that is not among `resources`. */
  unknownResources(): string[] {
    const wrappers = [...this.discovery.getControllers(), ...this.discovery.getProviders()];
    const found = new Set<string>();
    for (const { cls, name, handler } of discoveredHandlers(wrappers, this.scanner)) {
      for (const [target, where] of [
        [handler, `${cls.name}.${name}`],
        [cls, cls.name],
      ] as const) {
        const uri = this.reflector.get<string | undefined>(RESOURCE_METADATA, target);
        if (uri !== undefined && namedResource(uri, this.options.resources) === undefined) {
          found.add(`${where} ('${uri}')`);
        }
      }
    }
    return [...found];
  }

  /** The requirement decorators on `target` itself (a handler, or a class with what it inherits). */
  private requirementsOf(target: () => unknown): string[] {
    const found: string[] = [];
    if ((this.reflector.get<unknown[]>(SCOPES_METADATA, target)?.length ?? 0) > 0) {
      found.push('@Scopes()');
    }
    if ((this.reflector.get<unknown[]>(ANY_SCOPE_METADATA, target)?.length ?? 0) > 0) {
      found.push('@AnyScope()');
    }
    if (this.reflector.get<unknown>(REQUIRE_ACTIVE_METADATA, target) === true) {
      found.push('@RequireActiveToken()');
    }
    return found;
  }
}
