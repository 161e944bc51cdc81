import { createHash } from 'node:crypto';

/** The key under which anything about a token is stored: its SHA-256, never the token itself. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * The deny-list key of a token. For a JWT it is the hash of the signing input
 * (`header.payload`), so another encoding of the same signature (spare bits in the last base64url
 * character, or ECDSA's `(r, n - s)`) cannot slip past; for other tokens, the hash of the token.
 */
export function revocationKey(token: string): string {
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  const signed = first > 0 && last > first && token.indexOf('.', first + 1) === last;
  return createHash('sha256')
    .update(signed ? token.slice(0, last) : token)
    .digest('base64url');
}
