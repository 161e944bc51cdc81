/** Why a token was refused. Each reason maps to one fixed, client-safe description. */
export type TokenRejectionReason =
  | 'malformed'
  | 'encrypted'
  | 'algorithm'
  | 'critical_header'
  | 'token_type'
  | 'unknown_key'
  | 'key_mismatch'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'too_old'
  | 'issuer'
  | 'audience'
  | 'claims'
  | 'too_large'
  | 'revoked'
  | 'inactive'
  | 'binding';

/** Problems talking to a realm endpoint that are not OAuth error responses. */
export type VoxKeyTransportError = 'timeout' | 'network_error' | 'invalid_response' | 'http_error';

/** OAuth error codes the RFCs register for the token, introspection and revocation endpoints. */
const REGISTERED_OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'unsupported_token_type',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
  'timeout',
  'network_error',
  'invalid_response',
  'http_error',
]);

/**
 * A failure's code from a fixed set, safe as a metric label or in a health report: a registered
 * OAuth error code (RFC 6749 §5.2, RFC 7009, RFC 7662, RFC 8707) or a transport code, else
 * `other` (a realm may answer any string). `VoxKeyOAuthError.error` keeps the realm's own code.
 */
export function boundedErrorCode(failure: unknown): string {
  if (!(failure instanceof VoxKeyOAuthError)) return 'other';
  return REGISTERED_OAUTH_ERRORS.has(failure.error) ? failure.error : 'other';
}

/**
 * Every `code` a `VoxKeyError` carries: `invalid_options` (startup), `jwks_unavailable`,
 * `token_<reason>` for a refused token, `oauth_<error>` for a realm endpoint's answer (the
 * server's own OAuth error code or a transport code), and `invalid_scope` / `invalid_resource`
 * for a bad M2M request.
 */
export type VoxKeyErrorCode =
  | 'invalid_options'
  | 'jwks_unavailable'
  | `token_${TokenRejectionReason}`
  | `dpop_${DpopRejectionReason}`
  | `oauth_${string}`
  | 'invalid_scope'
  | 'invalid_resource';

/**
 * Base class of the library's own errors. `code` is stable and safe to match on;
 * messages never contain tokens or secrets.
 * @publicApi
 */
export class VoxKeyError extends Error {
  constructor(
    /** Stable, machine-readable error code. */
    readonly code: VoxKeyErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The module options are invalid; thrown at startup. The message names the option. */
export class VoxKeyConfigError extends VoxKeyError {
  constructor(message: string) {
    super('invalid_options', `VoxKeyModule: ${message}`);
  }
}

/** The realm's key set could not be fetched or read. Requests needing it get 503. */
export class VoxKeyJwksError extends VoxKeyError {
  /** Why the key set endpoint failed, when it was asked: a transport code, never a message. */
  readonly reason: VoxKeyTransportError | undefined;

  constructor(message: string, options?: { cause?: unknown; reason?: VoxKeyTransportError }) {
    super('jwks_unavailable', message, options);
    this.reason = options?.reason;
  }
}

/** A token failed validation. `message` is for debug logs; clients only see the reason's description. */
export class VoxKeyTokenError extends VoxKeyError {
  constructor(
    readonly reason: TokenRejectionReason,
    message: string,
  ) {
    super(`token_${reason}`, message);
  }
}

/**
 * Why a sender-constrained request was refused: a defective DPoP proof (`proof`), a proof that
 * was already used (`replay`), a missing or stale server nonce (`nonce`), or a token bound to
 * another key or certificate than the request shows (`binding`).
 */
export type DpopRejectionReason = 'proof' | 'replay' | 'nonce' | 'binding';

/** A DPoP proof or a token's key binding failed. `message` is for debug logs only. */
export class VoxKeyDpopError extends VoxKeyError {
  constructor(
    readonly reason: DpopRejectionReason,
    message: string,
  ) {
    super(`dpop_${reason}`, message);
  }
}

/**
 * A realm endpoint (token, introspection, revocation) refused or failed a request.
 * `error` is the OAuth error code the server sent (`invalid_client`, `invalid_scope`, ...) or one
 * of the library's transport codes; `retryable` says whether trying again may help.
 * @see RFC 6749 §5.2, RFC 7009 §2.2.1
 */
export class VoxKeyOAuthError extends VoxKeyError {
  /** Server-provided description, untrusted text; absent when the server sent none. */
  readonly errorDescription: string | undefined;
  /** HTTP status of the response, 0 when no response arrived. */
  readonly status: number;
  /** Whether a retry may succeed (429, 5xx, timeouts, network errors). */
  readonly retryable: boolean;
  /** Seconds the server asked to wait (`Retry-After`), when it said so. */
  readonly retryAfter: number | undefined;

  constructor(
    readonly error: VoxKeyTransportError | (string & {}),
    details: {
      endpoint: string;
      status: number;
      retryable: boolean;
      errorDescription?: string;
      retryAfter?: number;
      cause?: unknown;
    },
  ) {
    super(
      `oauth_${error}`,
      `VoxKey ${details.endpoint} endpoint: ${error}${details.status ? ` (HTTP ${details.status})` : ''}`,
      { cause: details.cause },
    );
    this.errorDescription = details.errorDescription;
    this.status = details.status;
    this.retryable = details.retryable;
    this.retryAfter = details.retryAfter;
  }
}

/**
 * A request to a service of the library (an M2M token request) is invalid before anything is
 * sent: `invalid_scope` or `invalid_resource`.
 */
export class VoxKeyRequestError extends VoxKeyError {
  constructor(code: 'invalid_scope' | 'invalid_resource', message: string) {
    super(code, message);
  }
}
