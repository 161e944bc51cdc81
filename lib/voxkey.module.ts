import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HandlerAudit } from './audit/handler.audit.js';
import { ScopesGuard } from './guards/scopes.guard.js';
import { VoxKeyAuthGuard } from './guards/voxkey-auth.guard.js';
import { RealmHttpClient } from './realm/realm-http.client.js';
import { RealmRegistry } from './realm/realm.registry.js';
import { VerifiedTokenCache } from './cache/verified-token.cache.js';
import { IntrospectionService } from './services/introspection.service.js';
import { M2MTokenService } from './services/m2m-token.service.js';
import { RevocationList } from './services/revocation-list.js';
import { RevocationService } from './services/revocation.service.js';
import { VoxKeySockets } from './services/voxkey-sockets.service.js';
import { SharedState } from './store/shared-state.js';
import { TokenBinding } from './binding/token-binding.js';
import { VoxKeyEvents } from './events/voxkey-events.service.js';
import { StartupSummary } from './health/startup-summary.provider.js';
import { VoxKeyHealthIndicator } from './health/voxkey-health.indicator.js';
import { JwksPrewarm } from './keys/jwks-prewarm.provider.js';
import { VoxKeyIntrospectionStrategy } from './strategies/voxkey-introspection.strategy.js';
import { VoxKeyJwtStrategy } from './strategies/voxkey-jwt.strategy.js';
import { GraphQLFieldAudit } from './audit/graphql-field.audit.js';
import { RouteModeAudit } from './audit/route-mode.audit.js';
import { VoxKeyRouteAudit } from './audit/route.audit.js';
import { ResourceMetadataRoutes } from './resource/resource-metadata.routes.js';
import { VoxKeyGraphQL } from './transports/graphql-connection.service.js';
import { VOXKEY_RESOLVED_OPTIONS } from './voxkey.constants.js';
import { ConfigurableVoxKeyModule } from './voxkey.module-definition.js';
import { resolvedOptionsProvider } from './voxkey.providers.js';

/**
 * Protects a NestJS API with VoxKey access tokens, and provides `IntrospectionService`,
 * `RevocationService`, `M2MTokenService` and `VoxKeyHealthIndicator`.
 *
 * @example
 * @Module({ imports: [VoxKeyModule.forRoot({ domain, realm, audience })] })
 * export class AppModule {}
 *
 * @example
 * VoxKeyModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({
 *     domain: config.getOrThrow('VOXKEY_DOMAIN'),
 *     realm: config.getOrThrow('VOXKEY_REALM'),
 *     audience: config.getOrThrow('VOXKEY_AUDIENCE'),
 *   }),
 * });
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    resolvedOptionsProvider,
    HandlerAudit,
    GraphQLFieldAudit,
    RouteModeAudit,
    VoxKeyRouteAudit,
    ResourceMetadataRoutes,
    SharedState,
    TokenBinding,
    VoxKeyEvents,
    RealmRegistry,
    VerifiedTokenCache,
    RealmHttpClient,
    RevocationList,
    IntrospectionService,
    RevocationService,
    M2MTokenService,
    VoxKeyJwtStrategy,
    VoxKeyIntrospectionStrategy,
    VoxKeyAuthGuard,
    ScopesGuard,
    VoxKeySockets,
    VoxKeyGraphQL,
    StartupSummary,
    JwksPrewarm,
    VoxKeyHealthIndicator,
  ],
  exports: [
    VOXKEY_RESOLVED_OPTIONS,
    // For the guards' property injection when an application provides a guard subclass itself.
    RealmRegistry,
    TokenBinding,
    VoxKeyEvents,
    VerifiedTokenCache,
    RevocationList,
    IntrospectionService,
    RevocationService,
    M2MTokenService,
    VoxKeyAuthGuard,
    ScopesGuard,
    VoxKeySockets,
    VoxKeyGraphQL,
    VoxKeyRouteAudit,
    VoxKeyHealthIndicator,
  ],
})
export class VoxKeyModule extends ConfigurableVoxKeyModule {}
