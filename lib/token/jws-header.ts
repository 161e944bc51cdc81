import { VoxKeyTokenError } from '../errors/voxkey.errors.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { VoxKeyAlgorithm } from '../interfaces/voxkey-module-options.interface.js';

/** The protected header of a JWS, as far as the library reads it. @see RFC 7515 §4 */
export interface JwsHeader {
  alg: string;
  kid?: string;
  typ?: string;
  [parameter: string]: unknown;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);
const NESTED_JWT_TYPES = new Set(['jwt', 'application/jwt']);
const MAX_KID_LENGTH = 1024;

/** Three non-empty segments of base64url characters (`\w` is exactly A-Z, a-z, 0-9 and `_`). */
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** Decodes a base64url segment holding a JSON object; anything else is a malformed token. */
export function decodeJsonSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    throw new VoxKeyTokenError('malformed', `${what} is not valid base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VoxKeyTokenError('malformed', `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Splits a compact JWS and decodes its header. Five segments (a JWE) are refused before any
 * decoding; segments must be non-empty base64url.
 * @see RFC 7515 §7.1, RFC 7516 §9
 */
export function decodeJwsHeader(token: string): JwsHeader {
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (second === -1) throw new VoxKeyTokenError('malformed', 'token has fewer than three segments');
  const third = token.indexOf('.', second + 1);
  if (third !== -1) {
    const fourth = token.indexOf('.', third + 1);
    if (fourth !== -1 && token.indexOf('.', fourth + 1) === -1) {
      throw new VoxKeyTokenError('encrypted', 'token has five segments (JWE)');
    }
    throw new VoxKeyTokenError('malformed', 'token has more than three segments');
  }
  if (!COMPACT_JWS.test(token)) {
    throw new VoxKeyTokenError('malformed', 'token segment is empty or not base64url');
  }
  return decodeJsonSegment(token.slice(0, first), 'header') as JwsHeader;
}

/**
 * Checks the header before any key is looked up, and returns its algorithm: algorithm
 * allow-list, no `crit` or `b64` (the library understands no extension), the access token
 * `typ`, no nested JWT, a string `kid`.
 * `jku`, `x5u`, `x5c` and `jwk` are ignored: keys only come from the configured realm.
 * @see RFC 8725 §3.1, RFC 7515 §4.1.11, RFC 9068 §2.1, RFC 7797 §3
 */
export function checkJwsHeader(
  header: JwsHeader,
  options: Pick<ResolvedVoxKeyOptions, 'algorithms' | 'requireTokenType'>,
): VoxKeyAlgorithm {
  const { alg, typ, cty, kid } = header;
  if (typeof alg !== 'string' || !(options.algorithms as readonly string[]).includes(alg)) {
    throw new VoxKeyTokenError('algorithm', 'alg is missing or not in the allow-list');
  }
  if (Object.hasOwn(header, 'crit') || Object.hasOwn(header, 'b64')) {
    throw new VoxKeyTokenError('critical_header', 'header carries crit or b64');
  }
  if (typ !== undefined) {
    const type = typeof typ === 'string' ? typ.toLowerCase() : '';
    const accepted = ACCESS_TOKEN_TYPES.has(type) || (!options.requireTokenType && type === 'jwt');
    if (!accepted) throw new VoxKeyTokenError('token_type', 'typ is not an access token type');
  } else if (options.requireTokenType) {
    throw new VoxKeyTokenError('token_type', 'typ at+jwt is required');
  }
  if (cty !== undefined && (typeof cty !== 'string' || NESTED_JWT_TYPES.has(cty.toLowerCase()))) {
    throw new VoxKeyTokenError('token_type', 'nested JWTs are not accepted');
  }
  if (kid !== undefined && (typeof kid !== 'string' || kid.length > MAX_KID_LENGTH)) {
    throw new VoxKeyTokenError('malformed', 'kid is not a string of acceptable length');
  }
  return alg as VoxKeyAlgorithm;
}

/** The payload of a JWT, decoded without verification; undefined for other tokens. */
export function unverifiedPayload(token: string): Record<string, unknown> | undefined {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 1 || second < 0 || token.indexOf('.', second + 1) !== -1) return undefined;
  try {
    const payload: unknown = decodeJsonSegment(token.slice(first + 1, second), 'payload');
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The `exp` of a JWT, in seconds, read without verification; undefined for other tokens. */
export function unverifiedExpiry(token: string): number | undefined {
  const exp = unverifiedPayload(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
}
