import { channel } from 'node:diagnostics_channel';
import { VOXKEY_CHANNELS, VoxKeyOAuthError } from '../../../lib/index';
import { observeRealmRequest } from '../../../lib/events/realm-request.util';

describe('observeRealmRequest', () => {
  const realm = channel(VOXKEY_CHANNELS.realm);
  const seen: unknown[] = [];
  const listener = (message: unknown) => seen.push(message);
  beforeEach(() => realm.subscribe(listener));
  afterEach(() => {
    realm.unsubscribe(listener);
    seen.length = 0;
  });

  it('ok: the result, and one event', async () => {
    await expect(observeRealmRequest('acme', 'token', async () => 42)).resolves.toBe(42);
    expect(seen).toEqual([
      {
        type: 'realm.request',
        realm: 'acme',
        endpoint: 'token',
        outcome: 'ok',
        durationMs: expect.any(Number),
      },
    ]);
  });

  it("a VoxKeyOAuthError: rethrown as it is, the outcome is its 'error'", async () => {
    const failure = new VoxKeyOAuthError('timeout', {
      endpoint: 'introspection',
      status: 0,
      retryable: true,
    });
    await expect(
      observeRealmRequest('acme', 'introspection', () => Promise.reject(failure)),
    ).rejects.toBe(failure);
    expect(seen).toMatchObject([{ endpoint: 'introspection', outcome: 'timeout' }]);
  });

  it("any other failure: outcome 'other', never its message", async () => {
    const failure = new Error('secret text');
    await expect(
      observeRealmRequest('acme', 'revocation', () => Promise.reject(failure)),
    ).rejects.toBe(failure);
    expect(seen).toMatchObject([{ endpoint: 'revocation', outcome: 'other' }]);
    expect(JSON.stringify(seen)).not.toContain('secret');
  });

  it("an OAuth error code no RFC registers is 'other' (a realm may answer any string)", async () => {
    const failure = new VoxKeyOAuthError('client_abc123_not_found', {
      endpoint: 'token',
      status: 400,
      retryable: false,
    });
    await expect(observeRealmRequest('acme', 'token', () => Promise.reject(failure))).rejects.toBe(
      failure,
    );
    expect(seen).toMatchObject([{ endpoint: 'token', outcome: 'other' }]);
  });

  it('nobody listening: the request runs, nothing is published', async () => {
    realm.unsubscribe(listener);
    const request = jest.fn(async () => 'done');
    await expect(observeRealmRequest('acme', 'token', request)).resolves.toBe('done');
    expect(request).toHaveBeenCalledTimes(1);
    expect(seen).toEqual([]);
  });
});
