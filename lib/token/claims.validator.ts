import { VoxKeyTokenError } from '../errors/voxkey.errors.js';
import type {
  ResolvedRealm,
  ResolvedVoxKeyOptions,
} from '../interfaces/resolved-voxkey-options.interface.js';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';

const STRING_CLAIMS = ['sub', 'jti', 'client_id'] as const;

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** The claim checks' view of the options and of the token's realm. */
export type ClaimCheckOptions = Pick<ResolvedVoxKeyOptions, 'clockTolerance' | 'maxTokenAge'> &
  Pick<ResolvedRealm, 'audiences' | 'issuers'>;

/**
 * Checks the claims of a payload whose signature verified, and returns them as `VoxKeyClaims`.
 * Each failure is a `VoxKeyTokenError` with a typed reason: `nbf` in the future
 * (`not_yet_valid`), `exp` missing or past (`claims`, `expired`), no configured audience in `aud`
 * (`audience`), `iss` not exactly one of the realm's issuers (`issuer`), `iat` older than `maxTokenAge`
 * (`too_old`) or in the future (`issued_in_future`), a `cnf` claim that is not an object
 * (`binding`; the binding itself is the guard's to check), and registered string claims that
 * are not strings. Times allow `clockTolerance`.
 * @see RFC 9068 §4, RFC 7519 §4.1, RFC 9449 §6, RFC 8705 §3
 */
export function validateClaims(
  payload: unknown,
  options: ClaimCheckOptions,
  nowSeconds = Math.floor(Date.now() / 1000),
): VoxKeyClaims {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new VoxKeyTokenError('malformed', 'payload is not a JSON object');
  }
  const claims = payload as Record<string, unknown>;
  const tolerance = options.clockTolerance;
  if (claims.nbf !== undefined) {
    if (!isTime(claims.nbf)) throw new VoxKeyTokenError('claims', 'nbf is not a number');
    if (claims.nbf > nowSeconds + tolerance) {
      throw new VoxKeyTokenError('not_yet_valid', 'nbf is in the future');
    }
  }
  if (!isTime(claims.exp)) throw new VoxKeyTokenError('claims', 'exp is missing or not a number');
  if (nowSeconds >= claims.exp + tolerance) {
    throw new VoxKeyTokenError('expired', 'exp is in the past');
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.some((aud) => typeof aud === 'string' && options.audiences.includes(aud))) {
    throw new VoxKeyTokenError('audience', 'aud holds none of the configured audiences');
  }
  if (typeof claims.iss !== 'string' || !options.issuers.includes(claims.iss)) {
    throw new VoxKeyTokenError('issuer', 'iss is not the realm URL');
  }
  if (claims.iat !== undefined && !isTime(claims.iat)) {
    throw new VoxKeyTokenError('claims', 'iat is not a number');
  }
  if (options.maxTokenAge !== undefined) {
    if (claims.iat === undefined) {
      throw new VoxKeyTokenError('too_old', 'iat is required when maxTokenAge is set');
    }
    if (nowSeconds >= (claims.iat as number) + options.maxTokenAge + tolerance) {
      throw new VoxKeyTokenError('too_old', 'iat is older than maxTokenAge');
    }
  }
  if (claims.iat !== undefined && (claims.iat as number) > nowSeconds + tolerance) {
    throw new VoxKeyTokenError('issued_in_future', 'iat is in the future');
  }
  // A sender-constrained token (DPoP, mTLS): the guard checks its binding on every request
  // (`TokenBinding`); here only that `cnf` is an object.
  if (
    claims.cnf !== undefined &&
    (typeof claims.cnf !== 'object' || claims.cnf === null || Array.isArray(claims.cnf))
  ) {
    throw new VoxKeyTokenError('binding', 'cnf is not an object');
  }
  for (const name of STRING_CLAIMS) {
    if (claims[name] !== undefined && typeof claims[name] !== 'string') {
      throw new VoxKeyTokenError('claims', `${name} is not a string`);
    }
  }
  return claims as VoxKeyClaims;
}
