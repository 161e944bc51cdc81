/**
 * Base class of the library's own errors. `code` is stable and safe to match on;
 * messages never contain tokens or secrets.
 */
export class VoxKeyError extends Error {
  constructor(
    /** Stable, machine-readable error code. */
    readonly code: string,
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
  constructor(message: string, options?: { cause?: unknown }) {
    super('jwks_unavailable', message, options);
  }
}

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
  | 'too_large';

/** A token failed validation. `message` is for debug logs; clients only see the reason's description. */
export class VoxKeyTokenError extends VoxKeyError {
  constructor(
    readonly reason: TokenRejectionReason,
    message: string,
  ) {
    super(`token_${reason}`, message);
  }
}
