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
  'insufficient_scope',
  'unsupported_context',
  'unavailable',
];

/** A call the guards let through, with a token (anonymous `@OptionalAuth()` calls are not events). */
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

/** A call the guards refused. */
export interface VoxKeyAuthRefusedEvent {
  readonly type: 'auth.refused';
  readonly context: VoxKeyEventContext;
  /** The configured realm id when the token got as far as naming one, else undefined. */
  readonly realm: string | undefined;
  readonly reason: VoxKeyRefusalReason;
  /** The HTTP status of the refusal (400, 401, 403, 503), whatever the transport's form. */
  readonly status: number;
  readonly durationMs: number;
}

/** A request to a realm's key set: at start-up, on schedule, or for a `kid` not yet known. */
export interface VoxKeyJwksFetchEvent {
  readonly type: 'jwks.fetch';
  readonly realm: string;
  readonly trigger: 'prewarm' | 'refresh' | 'unknown_kid';
  readonly outcome: 'ok' | 'error';
  /** Keys usable after an `ok` fetch. */
  readonly keys?: number;
  /** A code (`timeout`, `network_error`, `http_error`, `invalid_response`), never a message. */
  readonly error?: string;
  readonly durationMs: number;
}

/** A fetch the key set's cool-down refused (an unknown `kid` too soon after the last fetch). */
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
