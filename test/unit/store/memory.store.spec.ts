import { MemoryStore } from '../../../lib/store/memory.store';

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
