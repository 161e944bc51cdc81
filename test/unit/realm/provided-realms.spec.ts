import { Logger } from '@nestjs/common';
import { VoxKeyJwksError } from '../../../lib/errors/voxkey.errors';
import type { VoxKeyModuleOptions } from '../../../lib/interfaces/voxkey-module-options.interface';
import type { ResolvedRealm } from '../../../lib/interfaces/resolved-voxkey-options.interface';
import { ProvidedRealms } from '../../../lib/realm/provided-realms';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';
import { CaptureLogger } from '../../support/capture-logger';

const DOMAIN = 'https://id.example.com';
const CONFIGURED = '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a';
const PROVIDED = '9b2e4c1d-1f3a-4e5b-8c7d-0a1b2c3d4e5f';
const ISS = `${DOMAIN}/oauth2/${PROVIDED}`;
const TIMEOUT_MS = 50;

/** Realms from `provide`, as the registry builds them, with a provider call bounded by TIMEOUT_MS. */
function providedRealms(provide: NonNullable<VoxKeyModuleOptions['realmsProvider']>) {
  const options = resolveVoxKeyOptions({
    domain: DOMAIN,
    audience: 'https://api.example.com',
    realms: [{ id: 'configured', realm: CONFIGURED }],
    realmsProvider: provide,
  });
  return new ProvidedRealms(
    options.realmsProvider!,
    options.realmCache,
    (config: ResolvedRealm) => ({ config }),
    () => undefined,
    TIMEOUT_MS,
  );
}

/** Whether `promise` has settled, and how, without waiting for it. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

describe('ProvidedRealms', () => {
  const logger = new CaptureLogger();
  beforeAll(() => Logger.overrideLogger(logger));
  beforeEach(() => {
    logger.lines.splice(0);
    jest.useFakeTimers();
  });
  afterEach(() => jest.useRealTimers());
  afterAll(() => Logger.overrideLogger(false));

  it('a provider that never answers: load rejects with VoxKeyJwksError once requestTimeoutMs has passed', async () => {
    const provide = jest.fn(() => new Promise<never>(() => undefined));
    const realms = providedRealms(provide);
    const first = track(realms.load(ISS));
    // Concurrent loads of one realm share the one call, and its timeout.
    const second = track(realms.load(ISS));
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    expect(provide).toHaveBeenCalledTimes(1);
    expect(provide).toHaveBeenCalledWith(PROVIDED);
    expect([first.settled, second.settled]).toEqual([false, false]);
    await jest.advanceTimersByTimeAsync(1);
    expect(first.error).toBeInstanceOf(VoxKeyJwksError);
    expect(second.error).toBeInstanceOf(VoxKeyJwksError);
    expect(logger.lines).toContainEqual(
      expect.stringContaining(
        `realmsProvider('${PROVIDED}') failed: no answer within ${TIMEOUT_MS} ms`,
      ),
    );
    expect(jest.getTimerCount()).toBe(0);
  });

  it('after a timeout the single-flight entry is gone: the next load asks the provider again', async () => {
    let answer: ((given: { id: string; realm: string }) => void) | undefined;
    const provide = jest
      .fn()
      .mockImplementationOnce(() => new Promise<never>(() => undefined))
      .mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
    const realms = providedRealms(provide);
    const first = track(realms.load(ISS));
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(first.error).toBeInstanceOf(VoxKeyJwksError);

    const second = track(realms.load(ISS));
    await jest.advanceTimersByTimeAsync(0);
    expect(provide).toHaveBeenCalledTimes(2);
    answer!({ id: 'provided', realm: PROVIDED });
    await jest.advanceTimersByTimeAsync(0);
    expect(second.error).toBeUndefined();
    expect(second.value).toMatchObject({ config: { id: 'provided', uuid: PROVIDED } });
    // An answer in time leaves no timer behind.
    expect(jest.getTimerCount()).toBe(0);
  });
});
