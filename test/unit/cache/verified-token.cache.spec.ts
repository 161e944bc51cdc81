import { generateKeyPairSync } from 'node:crypto';
import { VerifiedTokenCache } from '../../../lib/cache/verified-token.cache';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';

const options = (maxEntries?: number) =>
  resolveVoxKeyOptions({
    domain: 'https://your-domain.com',
    realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
    audience: 'https://api.example.com',
    tokenCache: maxEntries === undefined ? undefined : { maxEntries },
  });
const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const cacheWith = (maxEntries?: number) => new VerifiedTokenCache(options(maxEntries));
const claims = (exp: number, extra: Record<string, unknown> = {}) => ({
  iss: 'i',
  aud: 'a',
  exp,
  ...extra,
});

describe('VerifiedTokenCache', () => {
  it('answers within the token lifetime plus the clock tolerance, never after', () => {
    const cache = cacheWith();
    cache.set('t', claims(1000), KEY);
    expect(cache.get('t', 999)).toMatchObject({ claims: { exp: 1000 }, key: KEY });
    expect(cache.get('t', 1004.9)).toMatchObject({ claims: { exp: 1000 } });
    expect(cache.get('t', 1005)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.stats).toEqual({ hits: 2, misses: 1 });
  });

  it('checks nbf on every hit', () => {
    const cache = cacheWith();
    cache.set('t', claims(2000, { nbf: 1000 }), KEY);
    expect(cache.get('t', 990)).toBeUndefined();
    expect(cache.get('t', 996)).toBeDefined();
  });

  it('gives each caller its own copy of the claims', () => {
    const cache = cacheWith();
    cache.set('t', claims(2000, { scope: 'a' }), KEY);
    const first = cache.get('t', 1000)!.claims;
    first.scope = 'admin';
    expect(cache.get('t', 1000)!.claims.scope).toBe('a');
  });

  it('is bounded: past maxEntries the least recently used entry goes first', () => {
    const cache = cacheWith(2);
    cache.set('a', claims(2000), KEY);
    cache.set('b', claims(2000), KEY);
    cache.get('a', 1000); // a hit makes 'a' the most recently used
    cache.set('c', claims(2000), KEY);
    expect([cache.get('a', 1000), cache.get('b', 1000), cache.get('c', 1000)].map(Boolean)).toEqual(
      [true, false, true],
    );
    expect(cache.size).toBe(2);
  });

  it('keys entries by the whole token: tokens that share an ending never answer for each other', () => {
    const cache = cacheWith();
    const end = 'S'.repeat(64);
    cache.set(`header.one.${end}`, claims(2000, { sub: 'one' }), KEY);
    cache.set(`header.two.${end}`, claims(2000, { sub: 'two' }), KEY);
    expect(cache.size).toBe(2);
    expect(cache.get(`header.one.${end}`, 1000)?.claims.sub).toBe('one');
    expect(cache.get(`header.two.${end}`, 1000)?.claims.sub).toBe('two');
    expect(cache.get(end, 1000)).toBeUndefined();
  });

  it('maxEntries 0 keeps nothing', () => {
    const cache = cacheWith(0);
    cache.set('t', claims(2000), KEY);
    expect(cache.get('t', 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('nested claims are copied too: one request cannot change what the next one sees', () => {
    const cache = cacheWith();
    cache.set('t', claims(2000, { realm_access: { roles: ['user'] } }), KEY);
    (cache.get('t', 1000)!.claims.realm_access as { roles: string[] }).roles.push('admin');
    expect(cache.get('t', 1000)!.claims.realm_access).toEqual({ roles: ['user'] });
  });

  it('with maxTokenAge, an entry ends at iat + maxTokenAge even before exp', () => {
    const strict = new VerifiedTokenCache(
      resolveVoxKeyOptions({
        ...(options().realms[0].endpoints && {
          domain: 'https://your-domain.com',
          realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
          audience: 'https://api.example.com',
          maxTokenAge: 60,
          clockTolerance: 0,
        }),
      }),
    );
    strict.set('t', claims(5000, { iat: 1000 }), KEY);
    expect(strict.get('t', 1059)).toBeDefined();
    expect(strict.get('t', 1060)).toBeUndefined();
  });
});
