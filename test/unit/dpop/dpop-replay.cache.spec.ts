import { DpopReplayCache } from '../../../lib/dpop/dpop-replay.cache';
import { VoxKeyDpopError } from '../../../lib/errors/voxkey.errors';
import { MemoryStore } from '../../../lib/store/memory.store';
import { RedisStore } from '../../../lib/store/redis.store';
import { ResilientStore, SharedStoreUnavailableError } from '../../../lib/store/resilient.store';
import type { VoxKeyStore } from '../../../lib/store/voxkey-store.interface';

const NOW = 1_800_000_000;
const proof = (jti: string, jkt = 'key-1', htu = 'https://a.example/mcp') => ({
  jkt,
  alg: 'ES256' as const,
  jti,
  iat: NOW,
  htu,
});

/** A shared store that records calls and can be switched off. */
class FlakyStore extends MemoryStore {
  down = false;
  readonly keys: { key: string; ttlMs: number }[] = [];
  override setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.down) return Promise.reject(new Error('ECONNREFUSED'));
    this.keys.push({ key, ttlMs });
    return super.setIfAbsent(key, value, ttlMs);
  }
}
(FlakyStore.prototype as { shared?: boolean }).shared = true;

describe('DpopReplayCache', () => {
  const options = { maxAgeSec: 300, replay: { onStoreDown: 'local' as const } };

  it('accepts a proof once; the same jti under another key or URI is another proof', async () => {
    const cache = new DpopReplayCache(new MemoryStore(), options);
    await cache.consume(proof('j1'), NOW);
    await expect(cache.consume(proof('j1'), NOW)).rejects.toMatchObject({ reason: 'replay' });
    await expect(cache.consume(proof('j1', 'key-2'), NOW)).resolves.toBeUndefined();
    await expect(
      cache.consume(proof('j1', 'key-1', 'https://a.example/api'), NOW),
    ).resolves.toBeUndefined();
  });

  it('keeps a hash, never the jti, until the proof leaves the iat window', async () => {
    const store = new FlakyStore();
    const cache = new DpopReplayCache(new ResilientStore(store), options);
    await cache.consume(proof('the-jti'), NOW + 100);
    expect(store.keys).toHaveLength(1);
    expect(store.keys[0].key).toMatch(/^dpop:[\w-]{43}$/);
    expect(store.keys[0].key).not.toContain('the-jti');
    expect(store.keys[0].ttlMs).toBe((300 - 100 + 1) * 1000);
  });

  it("is stored under the store's prefix once (RedisStore: voxkey:dpop:<hash>, SET NX PX)", async () => {
    const commands: string[][] = [];
    const client = {
      sendCommand: (args: string[]) => (commands.push(args), Promise.resolve('OK')),
    };
    const cache = new DpopReplayCache(new ResilientStore(new RedisStore({ client })), options);
    await cache.consume(proof('the-jti'), NOW);
    expect(commands).toHaveLength(1);
    const [command, name, value, px, ttl, nx] = commands[0];
    expect([command, value, px, ttl, nx]).toEqual(['SET', '1', 'PX', '301000', 'NX']);
    expect(name).toMatch(/^voxkey:dpop:[\w-]{43}$/);
  });

  it("with 'local', answers from this instance when the shared store is down (still one use each)", async () => {
    const store = new FlakyStore();
    store.down = true;
    const cache = new DpopReplayCache(new ResilientStore(store), options);
    await cache.consume(proof('j1'), NOW);
    await expect(cache.consume(proof('j1'), NOW)).rejects.toBeInstanceOf(VoxKeyDpopError);
  });

  it("with 'reject', refuses to decide while the shared store is down, and recovers with it", async () => {
    const store = new FlakyStore();
    store.down = true;
    const shared: VoxKeyStore = new ResilientStore(store);
    const cache = new DpopReplayCache(shared, {
      maxAgeSec: 300,
      replay: { onStoreDown: 'reject' },
    });
    await expect(cache.consume(proof('j1'), NOW)).rejects.toBeInstanceOf(
      SharedStoreUnavailableError,
    );
    await expect(cache.consume(proof('j2'), NOW)).rejects.toBeInstanceOf(
      SharedStoreUnavailableError,
    );
    store.down = false;
    await new Promise((resolve) => setTimeout(resolve, 1_050)); // the store is probed once a second
    await expect(cache.consume(proof('j3'), NOW)).resolves.toBeUndefined();
    expect(store.keys).toHaveLength(1);
  });
});
