import { createHash } from 'node:crypto';
import { decodeJsonSegment } from '../jwt/jwt-header.js';

/** The key under which anything about a token is stored: its SHA-256, never the token itself. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** The `exp` of a JWT, in seconds, read without verification; undefined for other tokens. */
export function unverifiedExpiry(token: string): number | undefined {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 1 || second < 0 || token.indexOf('.', second + 1) !== -1) return undefined;
  try {
    const { exp } = decodeJsonSegment(token.slice(first + 1, second), 'payload');
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}
