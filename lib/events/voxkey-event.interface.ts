/** The context a call came through. */
export type VoxKeyEventContext = 'http' | 'graphql' | 'ws' | 'rpc';

/**
 * Why a call was refused: a fixed, documented, low-cardinality set (an OpenTelemetry
 * `error.type`). `unavailable` is a 503 (the realm, its keys or the shared store could not be
 * asked); every other reason is the client's.
 */
export type VoxKeyRefusalReason =
  | 'no_token'
  | 'invalid_request'
  | 'cross_site'
  | 'malformed'
  | 'too_large'
  | 'algorithm'
  | 'token_type'
  | 'unknown_key'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'claims'
  | 'issuer'
  | 'audience'
  | 'binding'
  | 'dpop_proof'
  | 'dpop_nonce'
  | 'revoked'
  | 'inactive'
  | 'invalid'
  | 'insufficient_scope'
  | 'unsupported_context'
  | 'unavailable';

/** Every reason `auth.refused` may carry, in the documented order. */
export const VOXKEY_REFUSAL_REASONS: readonly VoxKeyRefusalReason[] = [
  'no_token',
  'invalid_request',
  'cross_site',
  'malformed',
  'too_large',
  'algorithm',
  'token_type',
  'unknown_key',
  'signature',
  'expired',
  'not_yet_valid',
  'claims',
  'issuer',
  'audience',
  'binding',
  'dpop_proof',
  'dpop_nonce',
  'revoked',
  'inactive',
  'invalid',
  'insufficient_scope',
  'unsupported_context',
  'unavailable',
];

/**
 * A call whose token the guards authenticated, or a connection accepted when it opened.
 * Anonymous `@OptionalAuth()` calls and `@Public()` routes are not events. A call then refused
 * by `ScopesGuard` also gives an `auth.refused` (`insufficient_scope`).
 */
export interface VoxKeyAuthAcceptedEvent {
  readonly type: 'auth.accepted';
  readonly context: VoxKeyEventContext;
  /** The configured realm id (never the token's raw `iss`). */
  readonly realm: string;
  /** Whether the verification came from the verified-token cache (or a session's earlier one). */
  readonly cached: boolean;
  /** Time spent in the guard for this call, in milliseconds. */
  readonly durationMs: number;
}

/**
 * A call the guards refused, or a connection (socket.io handshake, WebSocket upgrade,
 * subscription `connection_init`) refused when it opened.
 */
export interface VoxKeyAuthRefusedEvent {
  readonly type: 'auth.refused';
  readonly context: VoxKeyEventContext;
  /**
   * The configured realm id: with one realm, that realm; with several, the realm the token's
   * exact `iss` names (verified or not), else undefined (no token, an unknown issuer).
   */
  readonly realm: string | undefined;
  readonly reason: VoxKeyRefusalReason;
  /** The HTTP status of the refusal (400, 401, 403, 503), whatever the transport's form. */
  readonly status: number;
  /**
   * Whether `@OptionalAuth({ invalidToken: 'anonymous' })` let the call go on without a user
   * (`status` is then the refusal it would otherwise have been).
   */
  readonly anonymous: boolean;
  readonly durationMs: number;
}

/** A request to a realm's key set: at start-up, on schedule, or for a `kid` not yet known. */
export interface VoxKeyJwksFetchEvent {
  readonly type: 'jwks.fetch';
  readonly realm: string;
  /**
   * `prewarm` at start-up; `refresh` when the keys are older than `jwks.cacheMaxAgeMs` (in the
   * background); `unknown_kid` when a token needs a key not held (also the first fetch, when no
   * key set is loaded yet).
   */
  readonly trigger: 'prewarm' | 'refresh' | 'unknown_kid';
  readonly outcome: 'ok' | 'error';
  /** Keys usable after an `ok` fetch. */
  readonly keys?: number;
  /** A code (`timeout`, `network_error`, `http_error`, `invalid_response`), never a message. */
  readonly error?: string;
  readonly durationMs: number;
}

/**
 * A token refused because the key set's cool-down held a fetch back: an unknown `kid` too soon
 * after the last fetch (`jwks.cooldownMs`), or any token while no key set is loaded and the
 * last fetch failed under a second ago.
 */
export interface VoxKeyJwksCooldownEvent {
  readonly type: 'jwks.cooldown';
  readonly realm: string;
}

/** A call to a realm endpoint: introspection, revocation, or an M2M token request. */
export interface VoxKeyRealmRequestEvent {
  readonly type: 'realm.request';
  readonly realm: string;
  readonly endpoint: 'introspection' | 'revocation' | 'token';
  /** `ok`, or the library's error code for the failure (the realm's OAuth `error` or a transport code). */
  readonly outcome: string;
  readonly durationMs: number;
}

/** Every event the library publishes. */
export type VoxKeyEvent =
  | VoxKeyAuthAcceptedEvent
  | VoxKeyAuthRefusedEvent
  | VoxKeyJwksFetchEvent
  | VoxKeyJwksCooldownEvent
  | VoxKeyRealmRequestEvent;

/** The `type`s of `VoxKeyEvent`. */
export type VoxKeyEventType = VoxKeyEvent['type'];
