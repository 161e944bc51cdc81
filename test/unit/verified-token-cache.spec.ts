import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { JwksKeyStore } from '../../lib/jwt/jwks-key.store';
import { VerifiedTokenCache } from '../../lib/jwt/verified-token.cache';
import { resolveVoxKeyOptions } from '../../lib/voxkey-options.provider';

const options = (maxEntries?: number) =>
  resolveVoxKeyOptions({
    domain: 'https://your-domain.com',
    realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
    audience: 'https://api.example.com',
    tokenCache: maxEntries === undefined ? undefined : { maxEntries },
  });
const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const published = new Set<KeyObject>([KEY]);
const keyStore = { isCurrent: (key: KeyObject) => published.has(key) } as unknown as JwksKeyStore;
const cacheWith = (maxEntries?: number) => new VerifiedTokenCache(options(maxEntries), keyStore);
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
    expect(cache.get('t', 999)).toMatchObject({ exp: 1000 });
    expect(cache.get('t', 1004.9)).toMatchObject({ exp: 1000 });
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
    const first = cache.get('t', 1000)!;
    first.scope = 'admin';
    expect(cache.get('t', 1000)!.scope).toBe('a');
  });

  it('is bounded: past maxEntries the oldest entry goes first', () => {
    const cache = cacheWith(2);
    cache.set('a', claims(2000), KEY);
    cache.set('b', claims(2000), KEY);
    cache.get('a', 1000); // a hit writes nothing and does not reorder
    cache.set('c', claims(2000), KEY);
    expect([cache.get('a', 1000), cache.get('b', 1000), cache.get('c', 1000)].map(Boolean)).toEqual(
      [false, true, true],
    );
    expect(cache.size).toBe(2);
  });

  it('a token verified with a key since withdrawn from the JWKS is no longer a hit', () => {
    const cache = cacheWith();
    cache.set('t', claims(2000), KEY);
    expect(cache.get('t', 1000)).toBeDefined();
    published.delete(KEY);
    expect(cache.get('t', 1000)).toBeUndefined();
    published.add(KEY);
  });

  it('nested claims are copied too: one request cannot change what the next one sees', () => {
    const cache = cacheWith();
    cache.set('t', claims(2000, { realm_access: { roles: ['user'] } }), KEY);
    (cache.get('t', 1000)!.realm_access as { roles: string[] }).roles.push('admin');
    expect(cache.get('t', 1000)!.realm_access).toEqual({ roles: ['user'] });
  });

  it('with maxTokenAge, an entry ends at iat + maxTokenAge even before exp', () => {
    const strict = new VerifiedTokenCache(
      resolveVoxKeyOptions({
        ...(options().endpoints && {
          domain: 'https://your-domain.com',
          realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
          audience: 'https://api.example.com',
          maxTokenAge: 60,
          clockTolerance: 0,
        }),
      }),
      keyStore,
    );
    strict.set('t', claims(5000, { iat: 1000 }), KEY);
    expect(strict.get('t', 1059)).toBeDefined();
    expect(strict.get('t', 1060)).toBeUndefined();
  });

  describe('tokens that end alike (the map is keyed by the last 32 characters)', () => {
    const end = 'S'.repeat(32);
    const first = `header.payload-one.${end}`;
    const second = `header.payload-two.${end}`;

    it('one never answers for the other, by get() or holds()', () => {
      const cache = cacheWith();
      cache.set(first, claims(2000, { sub: 'one' }), KEY);
      expect(cache.holds(first)).toBe(true);
      expect(cache.holds(second)).toBe(false);
      expect(cache.holds(end)).toBe(false);
      expect(cache.get(second, 1000)).toBeUndefined();
      expect(cache.get(first, 1000)).toMatchObject({ sub: 'one' });
      expect(cache.stats).toEqual({ hits: 1, misses: 1 });
    });

    it('a miss for the other, even an expired lookup, leaves the entry in place', () => {
      const cache = cacheWith();
      cache.set(first, claims(2000, { sub: 'one' }), KEY);
      expect(cache.get(second, 5000)).toBeUndefined();
      expect(cache.size).toBe(1);
      expect(cache.get(first, 1000)).toMatchObject({ sub: 'one' });
    });

    it('the later one takes the place of the earlier, which then needs verifying again', () => {
      const cache = cacheWith();
      cache.set(first, claims(2000, { sub: 'one' }), KEY);
      cache.set(second, claims(2000, { sub: 'two' }), KEY);
      expect(cache.size).toBe(1);
      expect(cache.get(first, 1000)).toBeUndefined();
      expect(cache.get(second, 1000)).toMatchObject({ sub: 'two' });
    });

    it('short tokens are keyed whole', () => {
      const cache = cacheWith();
      cache.set('a.b.c', claims(2000, { sub: 'short' }), KEY);
      expect(cache.get('a.b.c', 1000)).toMatchObject({ sub: 'short' });
      expect(cache.holds('b.c')).toBe(false);
    });
  });

  it('maxEntries: 0 turns it off', () => {
    const cache = cacheWith(0);
    cache.set('a', claims(2000), KEY);
    expect(cache.get('a', 1000)).toBeUndefined();
  });
});
