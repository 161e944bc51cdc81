import { Logger } from '@nestjs/common';
import { ResilientStore } from '../../../lib/store/resilient.store';
import type { VoxKeyStore } from '../../../lib/store/voxkey-store.interface';
import { CaptureLogger } from '../../support/capture-logger';
import { movableClock, skipTime } from '../../support/clock';

/** Fault injection: a shared store that hangs, or fails, on demand. */
class FaultyStore implements VoxKeyStore {
  mode: 'ok' | 'hang' | 'fail' = 'ok';
  calls = 0;
  private readonly data = new Map<string, string>();
  private async run<T>(work: () => T): Promise<T> {
    this.calls++;
    if (this.mode === 'hang') return new Promise<T>(() => undefined);
    if (this.mode === 'fail') throw new Error('ECONNREFUSED');
    return work();
  }
  get(key: string) {
    return this.run(() => this.data.get(key));
  }
  set(key: string, value: string) {
    return this.run(() => void this.data.set(key, value));
  }
  delete(key: string) {
    return this.run(() => void this.data.delete(key));
  }
  setIfAbsent(key: string, value: string) {
    return this.run(() => (this.data.has(key) ? false : (this.data.set(key, value), true)));
  }
}

describe('ResilientStore', () => {
  const logger = new CaptureLogger();
  beforeAll(() => Logger.overrideLogger(logger));
  afterAll(() => Logger.overrideLogger(false));
  movableClock();

  it('a slow store: answers from in-process state after the time limit, warns once, probes once a second', async () => {
    const primary = new FaultyStore();
    const store = new ResilientStore(primary);
    await store.set('a', '1', 10_000);
    primary.mode = 'hang';
    await expect(store.get('a')).resolves.toBeUndefined(); // fallback has nothing: a miss, not an error
    expect(store.degraded).toBe(true);
    await store.set('b', '2', 10_000);
    await expect(store.get('b')).resolves.toBe('2');
    const callsWhileDown = primary.calls;
    await store.get('b');
    expect(primary.calls).toBe(callsWhileDown); // not asked again within the probe interval
    expect(logger.lines.filter((l) => l.includes('Shared store unavailable'))).toHaveLength(1);

    primary.mode = 'ok';
    skipTime(1_050);
    await expect(store.get('a')).resolves.toBe('1');
    expect(store.degraded).toBe(false);
    expect(logger.lines.some((l) => l.includes('reachable again'))).toBe(true);
  });

  it('a failing store: requests keep getting answers', async () => {
    const primary = new FaultyStore();
    primary.mode = 'fail';
    const store = new ResilientStore(primary);
    await expect(store.setIfAbsent('lock', 'x', 1000)).resolves.toBe(true);
    await expect(store.setIfAbsent('lock', 'y', 1000)).resolves.toBe(false);
  });
});

describe('ResilientStore.connect', () => {
  const logger = new CaptureLogger();
  beforeAll(() => Logger.overrideLogger(logger));
  afterAll(() => Logger.overrideLogger(false));
  afterEach(() => {
    jest.useRealTimers();
    logger.lines.length = 0;
  });
  const connectingStore = (connect: () => Promise<void>) => {
    const primary = Object.assign(new FaultyStore(), { connect });
    return { primary, store: new ResilientStore(primary) };
  };

  it('a store that connects: not degraded, and calls go to it', async () => {
    const { primary, store } = connectingStore(async () => undefined);
    await store.connect();
    expect(store.degraded).toBe(false);
    await store.set('a', '1', 1_000);
    expect(primary.calls).toBe(1);
    expect(logger.lines).toEqual([]);
  });

  it('a refused connection: connect() still resolves, warns, and the store starts on in-process state', async () => {
    const { primary, store } = connectingStore(() => Promise.reject(new Error('ECONNREFUSED')));
    await expect(store.connect()).resolves.toBeUndefined();
    expect(store.degraded).toBe(true);
    expect(
      logger.lines.filter((l) => l.includes('unavailable at startup (ECONNREFUSED)')),
    ).toHaveLength(1);
    await store.set('a', '1', 1_000);
    await expect(store.get('a')).resolves.toBe('1');
    expect(primary.calls).toBe(0); // not tried again within the probe interval
  });

  it('a connection that hangs: connect() gives up after its time limit', async () => {
    jest.useFakeTimers();
    const { store } = connectingStore(() => new Promise<void>(() => undefined));
    let settled = false;
    const connecting = store.connect().then(() => (settled = true));
    await jest.advanceTimersByTimeAsync(2_999);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await connecting;
    expect(store.degraded).toBe(true);
    expect(logger.lines.some((l) => l.includes('no connection within 3000 ms'))).toBe(true);
  });
});
