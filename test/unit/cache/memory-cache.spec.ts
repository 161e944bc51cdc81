import { MemoryCache } from '../../../lib/cache/memory-cache';

describe('MemoryCache', () => {
  it('never holds more than maxEntries, dropping the least recently used', () => {
    const cache = new MemoryCache<number>(200, () => 0);
    for (let i = 0; i < 200; i++) cache.set(`k${i}`, i, 1_000);
    expect(cache.get('k0')).toBe(0); // now the most recently used
    cache.set('k200', 200, 1_000);
    expect(cache.size).toBe(200);
    expect(cache.get('k0')).toBe(0);
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.get('k200')).toBe(200);
  });

  it('never returns an entry past its lifetime, measured with the injected clock', () => {
    let now = 1_000;
    const cache = new MemoryCache<string>(10, () => now);
    cache.set('a', 'x', 500);
    now = 1_499;
    expect(cache.get('a')).toBe('x');
    now = 1_500;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('stores nothing for a lifetime of zero, less or not a number, and forgets an earlier value', () => {
    const cache = new MemoryCache<string>(10, () => 0);
    cache.set('a', 'x', 1_000);
    for (const ttl of [0, -1, Number.NaN]) {
      cache.set('a', 'y', ttl);
      expect(cache.get('a')).toBeUndefined();
    }
  });

  it('deletes one entry, or all of them', () => {
    const cache = new MemoryCache<string>(10, () => 0);
    cache.set('a', 'x', 1_000);
    cache.set('b', 'y', 1_000);
    cache.delete('a');
    expect([cache.get('a'), cache.get('b')]).toEqual([undefined, 'y']);
    cache.clear();
    expect(cache.size).toBe(0);
  });

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
