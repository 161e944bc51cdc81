import { DpopReplayCache } from '../../../lib/dpop/dpop-replay.cache';
import { VoxKeyDpopError } from '../../../lib/errors/voxkey.errors';
import { MemoryStore } from '../../../lib/store/memory.store';
import { RedisStore } from '../../../lib/store/redis.store';
import { ResilientStore, SharedStoreUnavailableError } from '../../../lib/store/resilient.store';

const NOW_MS = 1_800_000_000_000;
const NOW = NOW_MS / 1000;
const proof = (jti: string, jkt = 'key-1', htu = 'https://a.example/mcp', iat = NOW) => ({
  jkt,
  alg: 'ES256' as const,
  jti,
  iat,
  htu,
});
const LOCAL = { maxAgeSec: 300, futureLeewaySec: 30, replay: { onStoreDown: 'local' as const } };
const REJECT = { ...LOCAL, replay: { onStoreDown: 'reject' as const } };

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
  it('accepts a proof once; the same jti under another key or URI is another proof', async () => {
    const cache = new DpopReplayCache(undefined, LOCAL);
    await cache.consume(proof('j1'), NOW_MS);
    await expect(cache.consume(proof('j1'), NOW_MS)).rejects.toMatchObject({ reason: 'replay' });
    await expect(cache.consume(proof('j1', 'key-2'), NOW_MS)).resolves.toBeUndefined();
    await expect(
      cache.consume(proof('j1', 'key-1', 'https://a.example/api'), NOW_MS),
    ).resolves.toBeUndefined();
  });

  it('never forgets a proof inside its window, however many others arrive (no LRU eviction)', async () => {
    const cache = new DpopReplayCache(undefined, LOCAL);
    await cache.consume(proof('first'), NOW_MS);
    for (let i = 0; i < 20_000; i++) await cache.consume(proof(`other-${i}`), NOW_MS);
    await expect(cache.consume(proof('first'), NOW_MS)).rejects.toBeInstanceOf(VoxKeyDpopError);
    // Once its window (iat + maxAge + leeway) is over, the entry goes.
    await expect(cache.consume(proof('first'), NOW_MS + 332_000)).resolves.toBeUndefined();
  });

  it('keeps a hash under the dpop: prefix, never the jti, until the window ends with the leeway', async () => {
    const store = new FlakyStore();
    const cache = new DpopReplayCache(new ResilientStore(store), LOCAL);
    await cache.consume(proof('the-jti'), NOW_MS + 100_000);
    expect(store.keys).toHaveLength(1);
    expect(store.keys[0].key).toMatch(/^dpop:[\w-]{43}$/);
    expect(store.keys[0].key).not.toContain('the-jti');
    expect(store.keys[0].ttlMs).toBe((300 + 30 + 1 - 100) * 1000);
  });

  it("is stored under the store's prefix once (RedisStore: voxkey:dpop:<hash>, SET NX PX)", async () => {
    const commands: string[][] = [];
    const client = {
      sendCommand: (args: string[]) => (commands.push(args), Promise.resolve('OK')),
    };
    const cache = new DpopReplayCache(new ResilientStore(new RedisStore({ client })), LOCAL);
    await cache.consume(proof('the-jti'), NOW_MS);
    expect(commands).toHaveLength(1);
    const [command, name, value, px, ttl, nx] = commands[0];
    expect([command, value, px, ttl, nx]).toEqual(['SET', '1', 'PX', '331000', 'NX']);
    expect(name).toMatch(/^voxkey:dpop:[\w-]{43}$/);
  });

  it("with 'local', answers from this instance while the shared store is down (still one use each)", async () => {
    const store = new FlakyStore();
    store.down = true;
    const cache = new DpopReplayCache(new ResilientStore(store), LOCAL);
    await cache.consume(proof('j1'), NOW_MS);
    await expect(cache.consume(proof('j1'), NOW_MS)).rejects.toBeInstanceOf(VoxKeyDpopError);
  });

  it("with 'reject', refuses to decide while the shared store is down, and recovers with it", async () => {
    const store = new FlakyStore();
    store.down = true;
    const cache = new DpopReplayCache(new ResilientStore(store), REJECT);
    await expect(cache.consume(proof('j1'), NOW_MS)).rejects.toBeInstanceOf(
      SharedStoreUnavailableError,
    );
    await expect(cache.consume(proof('j2'), NOW_MS)).rejects.toBeInstanceOf(
      SharedStoreUnavailableError,
    );
    store.down = false;
    await new Promise((resolve) => setTimeout(resolve, 1_050)); // the store is probed once a second
    await expect(cache.consume(proof('j3'), NOW_MS)).resolves.toBeUndefined();
    expect(store.keys).toHaveLength(1);
  });
});
