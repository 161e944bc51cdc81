import { MemoryCache } from '../cache/memory-cache.js';
import type { VoxKeyStore } from './voxkey-store.interface.js';

/**
 * The default store: in-process, bounded (least recently used entries go first), nothing
 * shared. Single-instance APIs need nothing else.
 */
export class MemoryStore implements VoxKeyStore {
  readonly shared = false;
  private readonly cache: MemoryCache<string>;

  constructor(maxEntries = 100_000) {
    this.cache = new MemoryCache(maxEntries);
  }

  async get(key: string): Promise<string | undefined> {
    return this.cache.get(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.cache.set(key, value, ttlMs);
  }

  async delete(key: string): Promise<void> {
    this.cache.delete(key);
  }

  async deleteIfEquals(key: string, value: string): Promise<void> {
    if (this.cache.get(key) === value) this.cache.delete(key);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.cache.get(key) !== undefined) return false;
    this.cache.set(key, value, ttlMs);
    return true;
  }
}
