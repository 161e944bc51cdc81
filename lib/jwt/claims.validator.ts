import { VoxKeyTokenError } from '../errors/voxkey.error.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';

const STRING_CLAIMS = ['sub', 'jti', 'client_id'] as const;

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * Checks what jsonwebtoken leaves out after it verified the signature, `nbf`, `exp` (when
 * present), `iss`, `aud` and `maxAge`: `exp` is required, `iat` may not lie in the future,
 * registered string claims are strings, and no `cnf` (sender-constrained tokens are refused).
 * @see RFC 9068 §4, RFC 7519 §4.1, RFC 9449 §6, RFC 8705 §3
 */
export function validateClaims(
  payload: unknown,
  options: Pick<ResolvedVoxKeyOptions, 'clockTolerance'>,
  nowSeconds = Math.floor(Date.now() / 1000),
): VoxKeyClaims {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new VoxKeyTokenError('malformed', 'payload is not a JSON object');
  }
  const claims = payload as Record<string, unknown>;
  if (!isTime(claims.exp)) throw new VoxKeyTokenError('claims', 'exp is missing or not a number');
  if (nowSeconds >= claims.exp + options.clockTolerance) {
    throw new VoxKeyTokenError('expired', 'exp is in the past');
  }
  if (claims.iat !== undefined) {
    if (!isTime(claims.iat)) throw new VoxKeyTokenError('claims', 'iat is not a number');
    if (claims.iat > nowSeconds + options.clockTolerance) {
      throw new VoxKeyTokenError('issued_in_future', 'iat is in the future');
    }
  }
  // A sender-constrained token (DPoP, mTLS) is bound to a key this library cannot check yet:
  // accepting it as a plain bearer token would undo the binding.
  if (claims.cnf !== undefined) {
    throw new VoxKeyTokenError('token_type', 'sender-constrained tokens (cnf) are not supported');
  }
  for (const name of STRING_CLAIMS) {
    if (claims[name] !== undefined && typeof claims[name] !== 'string') {
      throw new VoxKeyTokenError('claims', `${name} is not a string`);
    }
  }
  return claims as VoxKeyClaims;
}
