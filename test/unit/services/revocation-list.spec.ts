import { Logger } from '@nestjs/common';
import { RealmRegistry } from '../../../lib/realm/realm.registry';
import { RevocationList } from '../../../lib/services/revocation-list';
import { SharedState } from '../../../lib/store/shared-state';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';
import { revocationKey } from '../../../lib/token/token-hash';

describe('RevocationList (in-process store)', () => {
  const options = resolveVoxKeyOptions({
    domain: 'https://your-domain.com',
    realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
    audience: 'https://api.example.com',
  });
  class SmallList extends RevocationList {
    protected override readonly maxEntries = 2;
  }
  const list = () =>
    new RevocationList(options, new SharedState(options), new RealmRegistry(options));

  it('keys JWTs by their signed part, so another encoding of the signature is still revoked', async () => {
    const revoked = list();
    await revoked.add('aaa.bbb.ccc', Date.now() + 60_000, 'default');
    expect(await revoked.isRevoked('aaa.bbb.ccc', 'default')).toBe(true);
    expect(await revoked.isRevoked('aaa.bbb.ccd', 'default')).toBe(true);
    expect(await revoked.isRevoked('aaa.bbc.ccc', 'default')).toBe(false);
    expect(revocationKey('opaque')).not.toBe(revocationKey('opaquf'));
  });
  it('never evicts an unexpired revocation to make room', async () => {
    Logger.overrideLogger(false);
    const revoked = new SmallList(options, new SharedState(options), new RealmRegistry(options));
    for (const token of ['a', 'b', 'c']) await revoked.add(token, Date.now() + 60_000, 'default');
    expect([
      await revoked.isRevoked('a', 'default'),
      await revoked.isRevoked('b', 'default'),
      await revoked.isRevoked('c', 'default'),
    ]).toEqual([true, true, false]);
  });
  it('ignores entries that already expired', async () => {
    const revoked = list();
    await revoked.add('x', Date.now() - 1, 'default');
    expect(await revoked.isRevoked('x', 'default')).toBe(false);
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
    const list = new RevocationList(options, state, new RealmRegistry(options));
    const pending = list.isRevoked('aaa.bbb.ccc', 'default');
    await list.add('aaa.bbb.ccc', Date.now() + 60_000, 'default');
    answer(undefined); // the store had not seen the revocation yet
    expect(await pending).toBe(true);
    expect(await list.isRevoked('aaa.bbb.ccc', 'default')).toBe(true);
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
    const list = new RevocationList(
      options,
      { shared: true, store } as unknown as SharedState,
      new RealmRegistry(options),
    );
    const token = 'aaa.bbb.cccA';
    const reencoded = 'aaa.bbb.cccB'; // same signing input, last character's spare bits differ
    expect(await list.isRevoked(reencoded, 'default')).toBe(false); // remembered as not revoked for a second
    await list.add(token, Date.now() + 60_000, 'default');
    expect(await list.isRevoked(token, 'default')).toBe(true);
    expect(await list.isRevoked(reencoded, 'default')).toBe(true);
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
    const list = new RevocationList(
      options,
      { shared: true, store } as unknown as SharedState,
      new RealmRegistry(options),
    );
    expect(await list.isRevoked(cleared, 'default')).toBe(false);
    expect(await list.isRevoked(cleared, 'default')).toBe(false);
    expect(asked).toHaveLength(1); // the second answer came from the one-second memo
    expect(await list.isRevoked(other, 'default')).toBe(true);
    expect(asked).toHaveLength(2);
  });

  it("a memo of 'not revoked' in one realm does not hide a revocation in another", async () => {
    const options = resolveVoxKeyOptions({
      domain: 'https://your-domain.com',
      realms: [
        { id: 'a', realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a', audience: 'https://a' },
        { id: 'b', realm: '9b2e4c1d-1f3a-4e5b-8c7d-0a1b2c3d4e5f', audience: 'https://b' },
      ],
    });
    const revokedInStore = new Set<string>();
    const store = {
      shared: true,
      get: async (key: string) =>
        revokedInStore.has(key) ? String(Date.now() + 60_000) : undefined,
      set: async (key: string) => void revokedInStore.add(key),
      delete: async () => undefined,
      setIfAbsent: async () => true,
    };
    // Another instance revoked the token in realm A.
    const other = new RevocationList(
      options,
      { shared: true, store } as unknown as SharedState,
      new RealmRegistry(options),
    );
    await other.add('the-token', Date.now() + 60_000, 'a');
    const list = new RevocationList(
      options,
      { shared: true, store } as unknown as SharedState,
      new RealmRegistry(options),
    );
    expect(await list.isRevoked('the-token', 'b')).toBe(false);
    expect(await list.isRevoked('the-token', 'a')).toBe(true);
  });
});
