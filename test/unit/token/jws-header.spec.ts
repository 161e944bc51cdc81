import { VoxKeyTokenError } from '../../../lib/index';
import { checkJwsHeader, decodeJwsHeader, unverifiedExpiry } from '../../../lib/token/jws-header';
import { b64url } from '../../support/token-forge';

const reasonOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as VoxKeyTokenError).reason;
  }
  return 'accepted';
};
const options = { algorithms: ['RS256', 'ES256'] as const, requireTokenType: false };
const check = (header: Record<string, unknown>, opts = options) =>
  reasonOf(() => checkJwsHeader(header as never, opts as never));

describe('decodeJwsHeader', () => {
  const body = b64url({ sub: 'x' });
  it('decodes a compact JWS header', () => {
    expect(decodeJwsHeader(`${b64url({ alg: 'RS256', kid: 'k' })}.${body}.c2ln`)).toEqual({
      alg: 'RS256',
      kid: 'k',
    });
  });
  it.each([
    ['no dots', 'abc', 'malformed'],
    ['two segments', 'a.b', 'malformed'],
    ['four segments', 'a.b.c.d', 'malformed'],
    ['six segments', 'a.b.c.d.e.f', 'malformed'],
    ['five segments (JWE)', 'a.b.c.d.e', 'encrypted'],
    ['an empty payload', `${b64url({ alg: 'RS256' })}..c2ln`, 'malformed'],
    ['an empty signature', `${b64url({ alg: 'RS256' })}.${body}.`, 'malformed'],
    ['padding', `${b64url({ alg: 'RS256' })}.${body}.c2ln=`, 'malformed'],
    ['standard base64', `${b64url({ alg: 'RS256' })}.${body}.c2+/`, 'malformed'],
    ['a header that is not JSON', `${b64url('{nope')}.${body}.c2ln`, 'malformed'],
    ['a JSON string header', `${b64url('"RS256"')}.${body}.c2ln`, 'malformed'],
    ['a null header', `${b64url('null')}.${body}.c2ln`, 'malformed'],
    [
      'a header with invalid UTF-8',
      `${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${body}.c2ln`,
      'malformed',
    ],
  ])('refuses %s', (_name, token, reason) => {
    expect(reasonOf(() => decodeJwsHeader(token))).toBe(reason);
  });
});

describe('checkJwsHeader', () => {
  it.each([
    [{ alg: 'RS256' }, 'accepted'],
    [{ alg: 'ES256', typ: 'at+jwt', kid: 'k' }, 'accepted'],
    [{ alg: 'RS256', typ: 'JWT', jku: 'https://evil', x5u: 'https://evil', jwk: {} }, 'accepted'],
    [{ alg: 'none' }, 'algorithm'],
    [{ alg: 'rs256' }, 'algorithm'],
    [{ alg: 'HS256' }, 'algorithm'],
    [{ alg: 'PS256' }, 'algorithm'],
    [{}, 'algorithm'],
    [{ alg: null }, 'algorithm'],
    [{ alg: 'RS256', crit: [] }, 'critical_header'],
    [{ alg: 'RS256', crit: ['exp'] }, 'critical_header'],
    [{ alg: 'RS256', b64: false }, 'critical_header'],
    [{ alg: 'RS256', typ: 'dpop+jwt' }, 'token_type'],
    [{ alg: 'RS256', typ: ['at+jwt'] }, 'token_type'],
    [{ alg: 'RS256', cty: 'JWT' }, 'token_type'],
    [{ alg: 'RS256', cty: 7 }, 'token_type'],
    [{ alg: 'RS256', kid: 7 }, 'malformed'],
    [{ alg: 'RS256', kid: 'k'.repeat(1025) }, 'malformed'],
  ])('%j: %s', (header, reason) => {
    expect(check(header)).toBe(reason);
  });
  it('requireTokenType demands at+jwt', () => {
    const strict = { ...options, requireTokenType: true };
    expect(check({ alg: 'RS256', typ: 'at+jwt' }, strict)).toBe('accepted');
    expect(check({ alg: 'RS256', typ: 'application/AT+JWT' }, strict)).toBe('accepted');
    expect(check({ alg: 'RS256', typ: 'JWT' }, strict)).toBe('token_type');
    expect(check({ alg: 'RS256' }, strict)).toBe('token_type');
  });
});

describe('unverifiedExpiry', () => {
  it('reads a JWT exp without verifying, and nothing else', () => {
    expect(unverifiedExpiry(`${b64url({})}.${b64url({ exp: 123 })}.sig`)).toBe(123);
    expect(unverifiedExpiry(`${b64url({})}.${b64url({ exp: '123' })}.sig`)).toBeUndefined();
    expect(unverifiedExpiry('opaque-token')).toBeUndefined();
    expect(unverifiedExpiry('a.b')).toBeUndefined();
    expect(unverifiedExpiry('a.%%%.c')).toBeUndefined();
  });
});
