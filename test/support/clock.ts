/**
 * A wall clock the test can move forward, for code that reads `Date` and takes no clock
 * parameter (the JWKS key provider, the resilient store, M2M, the verified-token path through
 * the guard, the in-process caches with their default clock, and the in-process realms).
 * Only `Date` is faked, and it keeps advancing with real time: timers, sockets, `nextTick` and
 * microtasks stay real, so real HTTP servers, Redis and time limits work as usual.
 *
 * Call it in a `describe`: the clock is faked from its `beforeAll` to its `afterAll`, so it only
 * ever moves forward while the describe's app and realm live.
 *
 * @example
 * describe('expiry', () => {
 *   movableClock();
 *   it('...', async () => {
 *     skipTime(1_100); // instead of `await sleep(1_100)`
 *   });
 * });
 */
export function movableClock(): void {
  beforeAll(fakeDateOnly);
  afterAll(() => jest.useRealTimers());
}

function fakeDateOnly(): void {
  jest.useFakeTimers({
    advanceTimers: true,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}

/** Moves the clock of {@link movableClock} forward by `ms` at once. */
export function skipTime(ms: number): void {
  jest.setSystemTime(Date.now() + ms);
}
