/** Name of the Passport strategy that validates JWT access tokens locally (`validation: 'jwt'`). */
export const VOXKEY_STRATEGY = 'voxkey-jwt';

/** Name of the Passport strategy that validates tokens by introspection (`validation: 'introspection'`). */
export const VOXKEY_INTROSPECTION_STRATEGY = 'voxkey-introspection';

/** Injection token of the options exactly as given to `forRoot` / returned by `forRootAsync`. */
export const VOXKEY_MODULE_OPTIONS = 'voxkey:module-options';

/** Injection token of the validated options with defaults and derived endpoints filled in. */
export const VOXKEY_RESOLVED_OPTIONS = 'voxkey:resolved-options';

/**
 * Metadata key set by `@Public()` and `@OptionalAuth()`: the route's authentication mode
 * (`AuthModeMetadata`), one key so that the handler's mode overrides the controller's. A route
 * without it requires a token.
 */
export const AUTH_MODE_METADATA = 'voxkey:auth-mode';

/** Metadata key set by `@Scopes()`: a list of scope lists, every scope of which is required. */
export const SCOPES_METADATA = 'voxkey:scopes';

/** Metadata key set by `@AnyScope()`: a list of scope lists, each needing one of its scopes. */
export const ANY_SCOPE_METADATA = 'voxkey:any-scope';

/** Metadata key set by `@RequireActiveToken()`. */
export const REQUIRE_ACTIVE_METADATA = 'voxkey:require-active';

/** Metadata key of `@Realm()` and `@RealmFromParam()`: which realms a route accepts. */
export const REALM_BINDING_METADATA = 'voxkey:realm-binding';

/** Algorithms the verifier can check. HMAC and `none` are never accepted. @see RFC 7518 §3, RFC 8037 §3.1 */
export const SUPPORTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** Longest bearer token the extractor accepts, in characters. */
export const MAX_TOKEN_LENGTH = 8192;

/** Metadata key set by `@Resource()`: the protected resource (its URI) a route belongs to. */
export const RESOURCE_METADATA = 'voxkey:resource';
