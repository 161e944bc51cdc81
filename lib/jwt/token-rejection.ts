import { type TokenRejectionReason, VoxKeyTokenError } from '../errors/voxkey.error.js';

/** jsonwebtoken error messages, by prefix, and what they mean for the client. */
const JSONWEBTOKEN_MESSAGES: ReadonlyArray<readonly [string, TokenRejectionReason]> = [
  ['maxAge exceeded', 'too_old'],
  ['iat required when maxAge', 'too_old'],
  ['jwt expired', 'expired'],
  ['jwt not active', 'not_yet_valid'],
  ['jwt audience invalid', 'audience'],
  ['jwt issuer invalid', 'issuer'],
  ['invalid signature', 'signature'],
  ['invalid algorithm', 'algorithm'],
  ['jwt malformed', 'malformed'],
  ['invalid token', 'malformed'],
  ['jwt signature is required', 'malformed'],
  ['invalid exp value', 'claims'],
  ['invalid nbf value', 'claims'],
  ['secretOrPublicKey must be', 'key_mismatch'],
  ['"alg" parameter', 'key_mismatch'],
];

/**
 * Maps whatever Passport reports for a failed token (our `VoxKeyTokenError`, or an error of
 * jsonwebtoken, which passport-jwt verifies with) to a rejection reason. Unknown failures are
 * `'invalid'`: still refused, with the generic description.
 */
export function rejectionReason(failure: unknown): TokenRejectionReason | 'invalid' {
  if (failure instanceof VoxKeyTokenError) return failure.reason;
  if (!(failure instanceof Error)) return 'invalid';
  for (const [prefix, reason] of JSONWEBTOKEN_MESSAGES) {
    if (failure.message.startsWith(prefix)) return reason;
  }
  // ecdsa-sig-formatter (under jws): an ECDSA signature that is not R || S of the right length.
  if (/^"ES\d{3}" signatures must be "\d+" bytes/.test(failure.message)) return 'signature';
  return 'invalid';
}
