import { Module } from '@nestjs/common';
import { ScopesGuard } from './guards/scopes.guard.js';
import { VoxKeyAuthGuard } from './guards/voxkey-auth.guard.js';
import { JwksKeyStore } from './jwt/jwks-key.store.js';
import { VoxKeyJwtStrategy } from './strategies/voxkey-jwt.strategy.js';
import { VOXKEY_RESOLVED_OPTIONS } from './voxkey.constants.js';
import { ConfigurableVoxKeyModule } from './voxkey.module-definition.js';
import { resolvedOptionsProvider } from './voxkey-options.provider.js';

/**
 * Protects a NestJS API with VoxKey access tokens.
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
  providers: [
    resolvedOptionsProvider,
    JwksKeyStore,
    VoxKeyJwtStrategy,
    VoxKeyAuthGuard,
    ScopesGuard,
  ],
  exports: [VOXKEY_RESOLVED_OPTIONS, JwksKeyStore, VoxKeyAuthGuard, ScopesGuard],
})
export class VoxKeyModule extends ConfigurableVoxKeyModule {}
