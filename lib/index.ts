export { VoxKeyModule } from './voxkey.module.js';
export type { VoxKeyModuleAsyncOptions } from './voxkey.module-definition.js';
export {
  VOXKEY_INTROSPECTION_STRATEGY,
  VOXKEY_MODULE_OPTIONS,
  VOXKEY_STRATEGY,
} from './voxkey.constants.js';
export {
  getVoxKeyEndpoints,
  type VoxKeyBackchannel,
  type VoxKeyEndpoints,
} from './realm/realm-endpoints.js';
export type {
  VoxKeyAlgorithm,
  VoxKeyAuditOptions,
  VoxKeyDpopOptions,
  VoxKeyJwksOptions,
  VoxKeyModuleExtras,
  VoxKeyIntrospectionOptions,
  VoxKeyM2MOptions,
  VoxKeyModuleOptions,
  VoxKeyMtlsOptions,
  VoxKeyOptionsFactory,
  VoxKeyRealmOptions,
  VoxKeyResourceMetadataOptions,
  VoxKeyResourceOptions,
  VoxKeyTenancyOptions,
  VoxKeyTenancyRequest,
  VoxKeyTokenLocationOptions,
} from './interfaces/voxkey-module-options.interface.js';
export type { ResolvedVoxKeyOptions } from './interfaces/resolved-voxkey-options.interface.js';
export type { VoxKeyClaims } from './interfaces/voxkey-claims.interface.js';
export type { McpAuthInfo } from './interfaces/mcp-auth-info.interface.js';
export type {
  IntrospectionResult,
  TokenRequestOptions,
} from './interfaces/introspection-result.interface.js';
export type { M2MToken, M2MTokenRequest } from './interfaces/m2m-token.interface.js';

export { Public } from './decorators/public.decorator.js';
export { OptionalAuth, type OptionalAuthOptions } from './decorators/optional-auth.decorator.js';
export { Scopes } from './decorators/scopes.decorator.js';
export { AnyScope } from './decorators/any-scope.decorator.js';
export { VoxKeyUser } from './decorators/voxkey-user.decorator.js';
export { RequireActiveToken } from './decorators/require-active-token.decorator.js';
export { BearerToken } from './decorators/bearer-token.decorator.js';
export { Realm, RealmFromParam } from './decorators/realm.decorator.js';
export { Resource } from './decorators/resource.decorator.js';
export { InjectVoxKeyOptions } from './decorators/inject-voxkey-options.decorator.js';

export { IntrospectionService, type RealmIntrospection } from './services/introspection.service.js';
export { RevocationService, type RealmRevocation } from './services/revocation.service.js';
export { M2MTokenService, type RealmM2MTokens } from './services/m2m-token.service.js';
export {
  VoxKeySockets,
  type VoxKeyConnectionError,
  type VoxKeyIoSocket,
} from './services/voxkey-sockets.service.js';
export { attachVoxKeyHandshake } from './transports/ws.transport.js';
export type { VoxKeyStore } from './store/voxkey-store.interface.js';
export { MemoryStore } from './store/memory.store.js';
export { RedisStore, type RedisClientLike, type RedisStoreOptions } from './store/redis.store.js';

export { VoxKeyAuthGuard } from './guards/voxkey-auth.guard.js';
export { ScopesGuard, type ScopeRequirements } from './guards/scopes.guard.js';
export { VoxKeyGraphQL } from './transports/graphql-connection.service.js';
export { voxkeyCorsOptions, type VoxKeyCorsOptions } from './utils/cors-options.util.js';
export { VoxKeyEvents } from './events/voxkey-events.service.js';
export { VoxKeyRouteAudit } from './audit/route.audit.js';
export type {
  VoxKeyAuditFinding,
  VoxKeyAuditRule,
  VoxKeyRoute,
  VoxKeyRouteAccess,
  VoxKeyRouteContext,
} from './interfaces/route-audit.interface.js';
export { VoxKeyHealthIndicator } from './health/voxkey-health.indicator.js';
export type {
  VoxKeyHealth,
  VoxKeyHealthResult,
  VoxKeyIntrospectionHealth,
  VoxKeyKeySetHealth,
  VoxKeyRealmHealth,
} from './interfaces/voxkey-health.interface.js';
export { VOXKEY_CHANNELS } from './events/event-channels.js';
export {
  VOXKEY_REFUSAL_REASONS,
  type VoxKeyAuthAcceptedEvent,
  type VoxKeyAuthRefusedEvent,
  type VoxKeyEvent,
  type VoxKeyEventContext,
  type VoxKeyEventType,
  type VoxKeyJwksCooldownEvent,
  type VoxKeyJwksFetchEvent,
  type VoxKeyRealmRequestEvent,
  type VoxKeyRefusalReason,
} from './events/voxkey-event.interface.js';

export {
  VoxKeyConfigError,
  VoxKeyDpopError,
  VoxKeyError,
  VoxKeyJwksError,
  VoxKeyOAuthError,
  VoxKeyRequestError,
  VoxKeyTokenError,
  type DpopRejectionReason,
  type TokenRejectionReason,
  type VoxKeyErrorCode,
  type VoxKeyTransportError,
} from './errors/voxkey.errors.js';
export {
  AuthUnavailableException,
  BearerException,
  type BearerChallenge,
  CrossSiteRequestException,
  DpopProofException,
  InsufficientScopeException,
  InvalidRequestException,
  InvalidTokenException,
  MissingTokenException,
  UnsupportedContextException,
  UseDpopNonceException,
} from './errors/bearer.exceptions.js';
