import { Logger } from '@nestjs/common';
import { MemoryCache } from '../../../lib/cache/memory-cache';
import { RevocationList } from '../../../lib/services/revocation-list';
import { SharedState } from '../../../lib/store/shared-state';
import { MemoryStore } from '../../../lib/store/memory.store';
import { TokenCipher } from '../../../lib/store/token-cipher';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';
import { basicAuthorization, formEncode } from '../../../lib/realm/realm-http.client';
import { parseRetryAfter } from '../../../lib/utils/http-body.util';
import { SingleFlight } from '../../../lib/utils/single-flight.util';
import { unverifiedExpiry } from '../../../lib/token/jws-header';
import { hashToken, revocationKey } from '../../../lib/token/token-hash';
import { b64url } from '../../support/token-forge';

describe('client_secret_basic encoding (RFC 6749 §2.3.1)', () => {
  it('form-encodes before joining and base64-encoding', () => {
    expect(formEncode('a b+c:d%e/é')).toBe('a+b%2Bc%3Ad%25e%2F%C3%A9');
    const header = basicAuthorization({ clientId: 'id:1', clientSecret: 'sec ret+/é' });
    expect(Buffer.from(header.slice(6), 'base64').toString()).toBe('id%3A1:sec+ret%2B%2F%C3%A9');
    expect(header.startsWith('Basic ')).toBe(true);
  });
});

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it('reads delay-seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-29T06:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7);
    expect(parseRetryAfter('Sun, 29 Nov 2026 06:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Sun, 29 Nov 2026 05:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('MemoryCache', () => {
  it('expires entries and evicts the least recently used past its size', () => {
    let now = 0;
    const cache = new MemoryCache<number>(2, () => now);
    cache.set('a', 1, 100);
    cache.set('b', 2, 100);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3, 100);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    now = 100;
    expect(cache.get('a')).toBeUndefined();
    cache.set('d', 4, 0);
    expect(cache.get('d')).toBeUndefined();
  });
});

describe('SingleFlight', () => {
  it('shares one promise per key while it runs, then forgets it', async () => {
    const flight = new SingleFlight<number>();
    let calls = 0;
    const work = () => new Promise<number>((resolve) => setTimeout(() => resolve(++calls), 5));
    const [a, b] = await Promise.all([flight.run('k', work), flight.run('k', work)]);
    expect([a, b, calls]).toEqual([1, 1, 1]);
    expect(flight.has('k')).toBe(false);
    await expect(flight.run('k', work)).resolves.toBe(2);
  });
  it('a failure is shared too and not kept', async () => {
    const flight = new SingleFlight<number>();
    await expect(flight.run('k', () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(flight.run('k', () => Promise.resolve(1))).resolves.toBe(1);
  });
});

describe('token hashing', () => {
  it('never keeps the raw token', () => {
    const token = 'secret.token.value';
    expect(hashToken(token)).not.toContain('secret');
    expect(hashToken(token)).toHaveLength(43);
  });
  it('reads a JWT exp without verifying, and nothing else', () => {
    expect(unverifiedExpiry(`${b64url({})}.${b64url({ exp: 123 })}.sig`)).toBe(123);
    expect(unverifiedExpiry(`${b64url({})}.${b64url({ exp: '123' })}.sig`)).toBeUndefined();
    expect(unverifiedExpiry('opaque-token')).toBeUndefined();
    expect(unverifiedExpiry('a.b')).toBeUndefined();
    expect(unverifiedExpiry('a.%%%.c')).toBeUndefined();
  });
});

describe('RevocationList (in-process store)', () => {
  const options = resolveVoxKeyOptions({
    domain: 'https://your-domain.com',
    realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
    audience: 'https://api.example.com',
  });
  class SmallList extends RevocationList {
    protected override readonly maxEntries = 2;
  }
  const list = () => new RevocationList(options, new SharedState(options));

  it('keys JWTs by their signed part, so another encoding of the signature is still revoked', async () => {
    const revoked = list();
    await revoked.add('aaa.bbb.ccc', Date.now() + 60_000);
    expect(await revoked.isRevoked('aaa.bbb.ccc')).toBe(true);
    expect(await revoked.isRevoked('aaa.bbb.ccd')).toBe(true);
    expect(await revoked.isRevoked('aaa.bbc.ccc')).toBe(false);
    expect(revocationKey('opaque')).not.toBe(revocationKey('opaquf'));
  });
  it('never evicts an unexpired revocation to make room', async () => {
    Logger.overrideLogger(false);
    const revoked = new SmallList(options, new SharedState(options));
    for (const token of ['a', 'b', 'c']) await revoked.add(token, Date.now() + 60_000);
    expect([
      await revoked.isRevoked('a'),
      await revoked.isRevoked('b'),
      await revoked.isRevoked('c'),
    ]).toEqual([true, true, false]);
  });
  it('ignores entries that already expired', async () => {
    const revoked = list();
    await revoked.add('x', Date.now() - 1);
    expect(await revoked.isRevoked('x')).toBe(false);
  });
});

describe('TokenCipher', () => {
  const cipher = new TokenCipher(Buffer.alloc(32, 9));
  it('opens what it sealed, only under the same store key', () => {
    const sealed = cipher.seal('secret-token', 'k1');
    expect(sealed).not.toContain('secret-token');
    expect(cipher.open(sealed, 'k1')).toBe('secret-token');
    expect(cipher.open(sealed, 'k2')).toBeUndefined();
    expect(new TokenCipher(Buffer.alloc(32, 1)).open(sealed, 'k1')).toBeUndefined();
  });
  it('refuses a truncated authentication tag or a tampered body', () => {
    const [v, iv, body, tag] = cipher.seal('secret-token', 'k').split('.');
    expect(cipher.open([v, iv, body, tag.slice(0, 6)].join('.'), 'k')).toBeUndefined();
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] ^= 1;
    expect(cipher.open([v, iv, flipped.toString('base64url'), tag].join('.'), 'k')).toBeUndefined();
  });
  it('never reuses an IV', () => {
    expect(cipher.seal('x', 'k').split('.')[1]).not.toBe(cipher.seal('x', 'k').split('.')[1]);
  });
});

describe('MemoryStore.deleteIfEquals', () => {
  it('releases a lock only for its holder', async () => {
    const store = new MemoryStore();
    await store.setIfAbsent('lock', 'a', 10_000);
    await store.deleteIfEquals('lock', 'b');
    expect(await store.get('lock')).toBe('a');
    await store.deleteIfEquals('lock', 'a');
    expect(await store.get('lock')).toBeUndefined();
  });
});

describe('RevocationList with a shared store', () => {
  it('a revocation made here while a store lookup was in flight is not shadowed', async () => {
    const options = resolveVoxKeyOptions({
      domain: 'https://your-domain.com',
      realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
      audience: 'https://api.example.com',
    });
    let answer: (value: string | undefined) => void = () => undefined;
    const slowStore = {
      shared: true,
      get: () => new Promise<string | undefined>((resolve) => (answer = resolve)),
      set: async () => undefined,
      delete: async () => undefined,
      setIfAbsent: async () => true,
    };
    const state = { shared: true, store: slowStore } as unknown as SharedState;
    const list = new RevocationList(options, state);
    const pending = list.isRevoked('aaa.bbb.ccc');
    await list.add('aaa.bbb.ccc', Date.now() + 60_000);
    answer(undefined); // the store had not seen the revocation yet
    expect(await pending).toBe(true);
    expect(await list.isRevoked('aaa.bbb.ccc')).toBe(true);
  });

  it('a revocation made here refuses another encoding of the same signature at once', async () => {
    const options = resolveVoxKeyOptions({
      domain: 'https://your-domain.com',
      realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
      audience: 'https://api.example.com',
    });
    const store = {
      shared: true,
      get: async () => undefined, // the store has not heard of the revocation yet
      set: async () => undefined,
      delete: async () => undefined,
      setIfAbsent: async () => true,
    };
    const list = new RevocationList(options, { shared: true, store } as unknown as SharedState);
    const token = 'aaa.bbb.cccA';
    const reencoded = 'aaa.bbb.cccB'; // same signing input, last character's spare bits differ
    expect(await list.isRevoked(reencoded)).toBe(false); // remembered as not revoked for a second
    await list.add(token, Date.now() + 60_000);
    expect(await list.isRevoked(token)).toBe(true);
    expect(await list.isRevoked(reencoded)).toBe(true);
  });

  it('a token the store cleared does not clear another token that ends alike', async () => {
    const options = resolveVoxKeyOptions({
      domain: 'https://your-domain.com',
      realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
      audience: 'https://api.example.com',
    });
    const end = 'S'.repeat(32);
    const cleared = `aaa.bbb.${end}`;
    const other = `aaa.ccc.${end}`;
    const asked: string[] = [];
    const store = {
      shared: true,
      get: async (key: string) => {
        asked.push(key);
        return key.endsWith(revocationKey(other)) ? String(Date.now() + 60_000) : undefined;
      },
      set: async () => undefined,
      delete: async () => undefined,
      setIfAbsent: async () => true,
    };
    const list = new RevocationList(options, { shared: true, store } as unknown as SharedState);
    expect(await list.isRevoked(cleared)).toBe(false);
    expect(await list.isRevoked(cleared)).toBe(false);
    expect(asked).toHaveLength(1); // the second answer came from the one-second memo
    expect(await list.isRevoked(other)).toBe(true);
    expect(asked).toHaveLength(2);
  });
});
