import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import { authModeOf } from '../utils/route-metadata.util.js';
import { ANY_SCOPE_METADATA, SCOPES_METADATA } from '../voxkey.constants.js';
import { discoveredHandlers } from './discovered-handlers.util.js';
import {
  FIELD_RESOLVER,
  GRAPHQL_OPTIONS,
  RESOLVER_NAME,
  RESOLVER_TYPE,
} from './nest-metadata.constants.js';

/**
 * Whether guards run on field resolvers: every `GraphQLModule` lists `'guards'` in
 * `fieldResolverEnhancers` (true, too, in an application without GraphQL).
 */
export function fieldResolversGuarded(
  providers: ReturnType<DiscoveryService['getProviders']>,
): boolean {
  return providers
    .filter((wrapper) => wrapper.token === GRAPHQL_OPTIONS)
    .map((wrapper) => wrapper.instance as { fieldResolverEnhancers?: unknown } | undefined)
    .every(
      (option) =>
        Array.isArray(option?.fieldResolverEnhancers) &&
        option.fieldResolverEnhancers.includes('guards'),
    );
}

/**
 * At start-up, stops the application when a GraphQL field resolver (`@ResolveField`) asks for
 * scopes of its own (`@Scopes()` or `@AnyScope()` on the method) while the `GraphQLModule` does
 * not run guards on field resolvers (`fieldResolverEnhancers` without `'guards'`): NestJS
 * would silently ignore those scopes, and a field the author meant to protect would be served to
 * anyone who can reach its parent. Always on, whatever `audit` says.
 */
@Injectable()
export class GraphQLFieldAudit implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    const findings = this.findings();
    if (findings.length === 0) return;
    throw new VoxKeyConfigError(
      `@Scopes()/@AnyScope() on GraphQL field resolvers that guards never reach: ${findings.join(', ')}; set fieldResolverEnhancers: ['guards'] in GraphQLModule.forRoot(), or move the scopes to the root query`,
    );
  }

  /**
   * `Type.field` of each scoped field resolver left without guards: when a `GraphQLModule`
   * does not list `'guards'` in `fieldResolverEnhancers`; none in an application without GraphQL.
   */
  findings(): string[] {
    const wrappers = this.discovery.getProviders();
    if (fieldResolversGuarded(wrappers)) return [];
    const findings: string[] = [];
    for (const { cls, name, handler } of discoveredHandlers(wrappers, this.scanner)) {
      const type = this.reflector.get<unknown>(RESOLVER_TYPE, cls);
      if (type === undefined) continue;
      if (this.reflector.get<unknown>(FIELD_RESOLVER, handler) !== true) continue;
      if (!this.asksForScopes(handler, cls)) continue;
      const field = this.reflector.get<unknown>(RESOLVER_NAME, handler);
      findings.push(
        `${typeof type === 'string' ? type : cls.name}.${typeof field === 'string' ? field : name}`,
      );
    }
    return findings;
  }

  /**
   * Scopes on the field resolver itself. A resolver class's scopes read as the requirements of
   * its operations (root fields, which guards always reach), so they are not reported.
   */
  private asksForScopes(handler: () => unknown, cls: () => unknown): boolean {
    if (authModeOf(this.reflector, [handler, cls])?.mode === 'public') return false;
    return (
      (this.reflector.get<unknown[]>(SCOPES_METADATA, handler)?.length ?? 0) > 0 ||
      (this.reflector.get<unknown[]>(ANY_SCOPE_METADATA, handler)?.length ?? 0) > 0
    );
  }
}
