import { createHmac } from 'node:crypto';

export function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/** Builds a compact JWS from parts without any key: for tokens that must not verify. */
export function compact(header: unknown, payload: unknown, signature = ''): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`;
}

/** The classic algorithm-confusion forgery: HMAC keyed with the realm's public key text. */
export function hmacForge(
  alg: 'HS256' | 'HS384' | 'HS512',
  header: Record<string, unknown>,
  payload: unknown,
  secret: string,
): string {
  const input = `${b64url({ ...header, alg })}.${b64url(payload)}`;
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

/** Decodes a JWT's payload without checking anything. */
export function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** Claims of a valid five-minute token of `issuer` for `audience`, with `read:posts`, plus `extra`. */
export function validClaims(
  issuer: string,
  audience: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer,
    aud: audience,
    sub: 'attacker',
    iat: now,
    exp: now + 300,
    scope: 'read:posts',
    ...extra,
  };
}
