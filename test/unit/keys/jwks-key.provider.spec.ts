import { Logger } from '@nestjs/common';
import { JwksKeyProvider } from '../../../lib/keys/jwks-key.provider';
import { VoxKeyTestRealm } from '../../../lib/testing/index';
import { HttpStub } from '../../support/http-stub';

const SETTINGS = { cacheMaxAgeMs: 600_000, cooldownMs: 30_000, timeoutMs: 300 };

describe('JwksKeyProvider state and prewarm()', () => {
  let realm: VoxKeyTestRealm;
  beforeAll(async () => {
    Logger.overrideLogger(false);
    realm = await VoxKeyTestRealm.start();
  });
  afterAll(() => realm.close());
  beforeEach(() => {
    realm.jwksAvailable = true;
    realm.jwksRequests = 0;
  });

  it('reading the state fetches nothing', () => {
    const provider = new JwksKeyProvider(realm.endpoints.jwksUri, SETTINGS, 'default');
    for (let i = 0; i < 10; i++) {
      expect(provider.state).toEqual({
        keys: 0,
        fetchedAt: undefined,
        lastFetchFailed: false,
        lastError: undefined,
        coolingDown: false,
      });
    }
    expect(realm.jwksRequests).toBe(0);
  });

  it('prewarm() loads the keys once; concurrent calls share the fetch; the cool-down then holds', async () => {
    const provider = new JwksKeyProvider(realm.endpoints.jwksUri, SETTINGS, 'default');
    expect(await Promise.all([provider.prewarm(), provider.prewarm()])).toEqual([true, true]);
    expect(realm.jwksRequests).toBe(1);
    expect(provider.state).toEqual({
      keys: 1,
      fetchedAt: expect.any(Number),
      lastFetchFailed: false,
      lastError: undefined,
      coolingDown: true,
    });
    // Keys already loaded (a request may have loaded them since the pre-warm was scheduled):
    // nothing to fetch.
    expect(await provider.prewarm()).toBe(true);
    expect(realm.jwksRequests).toBe(1);
  });

  it('a failed prewarm() records the code and backs off like a request', async () => {
    realm.jwksAvailable = false;
    const provider = new JwksKeyProvider(realm.endpoints.jwksUri, SETTINGS, 'default');
    expect(await provider.prewarm()).toBe(false);
    expect(provider.state).toMatchObject({
      keys: 0,
      lastFetchFailed: true,
      lastError: 'http_error',
      coolingDown: true,
    });
    realm.jwksAvailable = true;
    expect(await provider.prewarm()).toBe(false); // within the back-off: not tried
    expect(realm.jwksRequests).toBe(1);
  });

  it.each([
    ['timeout', (stub: HttpStub) => (stub.handler = () => undefined)],
    ['invalid_response', (stub: HttpStub) => stub.serveJson({ keys: 'none' })],
    ['invalid_response', (stub: HttpStub) => stub.serveJson({ keys: [] })],
    ['http_error', (stub: HttpStub) => stub.serveJson({}, 500)],
  ])('lastError is %s for each kind of failure', async (code, fault) => {
    const stub = await HttpStub.start();
    try {
      fault(stub);
      const provider = new JwksKeyProvider(`${stub.origin}/jwks`, SETTINGS, 'default');
      await provider.prewarm();
      expect(provider.state.lastError).toBe(code);
    } finally {
      await stub.close();
    }
  });

  it('lastError is network_error when nothing listens', async () => {
    const stub = await HttpStub.start();
    const url = `${stub.origin}/jwks`;
    await stub.close();
    const provider = new JwksKeyProvider(url, SETTINGS, 'default');
    await provider.prewarm();
    expect(provider.state.lastError).toBe('network_error');
  });
});
