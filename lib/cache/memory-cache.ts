/**
 * Deletes the oldest entries of an insertion-ordered map until it holds at most `maxEntries`,
 * and at most 1% fewer. In batches because V8 leaves deleted entries as holes that an iterator
 * walks from the start until the table is rehashed: deleting the first key on every insertion
 * cost about 5 µs per insertion in a 10,000-entry map (bench/README.md).
 */
export function evictOldest<K, V>(map: Map<K, V>, maxEntries: number): void {
  if (map.size <= maxEntries) return;
  let excess = map.size - maxEntries + Math.floor(maxEntries / 100);
  for (const key of map.keys()) {
    map.delete(key);
    if (--excess <= 0) break;
  }
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/**
 * A bounded in-process cache with a lifetime per entry: expired entries are never returned, and
 * past `maxEntries` the least recently used entry is dropped (Map order is recency order).
 */
export class MemoryCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Number of entries held, expired ones included until they are touched or evicted. */
  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` for `ttlMs`; a lifetime of zero or less stores nothing. */
  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (!(ttlMs > 0)) return;
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    evictOldest(this.entries, this.maxEntries);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
