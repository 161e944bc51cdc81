import { evictOldest, MemoryCache } from '../../lib/cache/memory-cache';

describe('evictOldest', () => {
  it('leaves a map at or under its bound alone', () => {
    const map = new Map([['a', 1]]);
    evictOldest(map, 1);
    expect([...map.keys()]).toEqual(['a']);
  });

  it('drops the oldest entries, down to 1% under the bound, and keeps the newest', () => {
    const map = new Map<number, number>();
    for (let i = 0; i < 1_001; i++) map.set(i, i);
    evictOldest(map, 1_000);
    // 1 over the bound, plus 1% of it: 11 go, the oldest first.
    expect(map.size).toBe(990);
    expect(map.has(10)).toBe(false);
    expect(map.has(11)).toBe(true);
    expect(map.has(1_000)).toBe(true);
  });

  it('bounds below 100 evict exactly the excess', () => {
    const map = new Map<number, number>([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    evictOldest(map, 2);
    expect([...map.keys()]).toEqual([2, 3]);
  });
});

describe('MemoryCache', () => {
  it('never holds more than maxEntries, dropping the least recently used', () => {
    const cache = new MemoryCache<number>(200, () => 0);
    for (let i = 0; i < 200; i++) cache.set(`k${i}`, i, 1_000);
    expect(cache.get('k0')).toBe(0); // now the most recently used
    cache.set('k200', 200, 1_000);
    expect(cache.size).toBeLessThanOrEqual(200);
    expect(cache.get('k0')).toBe(0);
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.get('k200')).toBe(200);
  });
});
