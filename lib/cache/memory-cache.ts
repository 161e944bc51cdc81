import { LRUCache } from 'lru-cache';

interface Entry<V> {
  readonly value: V;
  /** When the entry stops being returned, in milliseconds of the cache's clock. */
  readonly expiresAt: number;
}

/**
 * The library's in-process cache: bounded by lru-cache (least recently used out first), with a
 * lifetime per entry checked here against `now`, so an expired entry is never returned. Tests
 * inject their own clock.
 */
export class MemoryCache<V> {
  private readonly entries: LRUCache<string, Entry<V>>;

  constructor(
    maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = new LRUCache({ max: maxEntries });
  }

  /** Number of entries held, expired ones included until they are touched or evicted. */
  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value` for `ttlMs`; a lifetime of zero or less (or not a number) stores nothing. */
  set(key: string, value: V, ttlMs: number): void {
    if (!(ttlMs > 0)) {
      this.entries.delete(key);
      return;
    }
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
