import type { VoxKeyAuthGuard } from '../../../lib/guards/voxkey-auth.guard';
import {
  AuthUnavailableException,
  InvalidRequestException,
  MissingTokenException,
  VoxKeyGraphQL,
} from '../../../lib/index';
import type { ResolvedVoxKeyOptions } from '../../../lib/interfaces/resolved-voxkey-options.interface';
import {
  closeSubscriptionAtExpiry,
  MERCURIUS_SOCKET,
} from '../../../lib/transports/graphql.transport';

const options = {
  contexts: { graphql: { closeOnExpiry: true, connectionParamsKey: 'authToken' } },
} as unknown as ResolvedVoxKeyOptions;

/** The helper over a guard whose connection check gives `outcome`. */
function helper(outcome: () => Promise<unknown>) {
  const authenticateConnection = jest.fn(outcome);
  const graphql = new VoxKeyGraphQL(
    { authenticateConnection } as unknown as VoxKeyAuthGuard,
    options,
  );
  return { graphql, authenticateConnection };
}

const socket = () => ({ close: jest.fn(), once: jest.fn() });

describe('VoxKeyGraphQL', () => {
  describe('graphqlWsOnConnect', () => {
    it('hands the guard the connectionParams credentials and the upgrade request', async () => {
      const { graphql, authenticateConnection } = helper(async () => ({
        user: {},
        token: 't',
        until: undefined,
      }));
      const request = { headers: {} };
      await expect(
        graphql.graphqlWsOnConnect({
          connectionParams: { authToken: 'abc' },
          extra: { request, socket: socket() },
        }),
      ).resolves.toBe(true);
      expect(authenticateConnection).toHaveBeenCalledWith(
        request,
        { kind: 'token', token: 'abc' },
        'graphql',
      );
    });

    it('allowAnonymousConnections lets a connection without any token in, unchecked; one with a token is still checked', async () => {
      const anonymous = {
        contexts: { graphql: { ...options.contexts.graphql, allowAnonymousConnections: true } },
      } as unknown as ResolvedVoxKeyOptions;
      const authenticateConnection = jest.fn(() => Promise.reject(new MissingTokenException('r')));
      const graphql = new VoxKeyGraphQL(
        { authenticateConnection } as unknown as VoxKeyAuthGuard,
        anonymous,
      );
      const ws = socket();
      await expect(graphql.graphqlWsOnConnect({ extra: { socket: ws } })).resolves.toBe(true);
      await expect(graphql.mercuriusOnConnect({ payload: {} })).resolves.toBe(true);
      expect(authenticateConnection).not.toHaveBeenCalled();
      await expect(
        graphql.graphqlWsOnConnect({
          connectionParams: { authToken: 'abc' },
          extra: { socket: ws },
        }),
      ).resolves.toBe(false);
      expect(authenticateConnection).toHaveBeenCalledTimes(1);
      expect(ws.close).toHaveBeenCalledWith(4403, 'No token');
    });

    it.each([
      ['a missing token', new MissingTokenException('r'), 4403, 'No token'],
      ['malformed credentials', new InvalidRequestException('r'), 4400, 'Invalid request'],
      ['the key set down', new AuthUnavailableException(1), 1013, 'Service Unavailable'],
    ])(
      '%s: closes the socket with its code and resolves false, never an object',
      async (_name, refusal, code, reason) => {
        const { graphql } = helper(() => Promise.reject(refusal));
        const ws = socket();
        await expect(graphql.graphqlWsOnConnect({ extra: { socket: ws } })).resolves.toBe(false);
        expect(ws.close).toHaveBeenCalledWith(code, reason);
      },
    );

    it('a refusal without a socket (no extra) still resolves false', async () => {
      const { graphql } = helper(() => Promise.reject(new MissingTokenException('r')));
      await expect(graphql.graphqlWsOnConnect({})).resolves.toBe(false);
    });

    it('an error that is not a refusal is not swallowed', async () => {
      const { graphql } = helper(() => Promise.reject(new TypeError('bug')));
      await expect(graphql.graphqlWsOnConnect({ extra: { socket: socket() } })).rejects.toThrow(
        'bug',
      );
    });
  });

  describe('mercuriusOnConnect', () => {
    it('checks the connection_init payload: true when valid, false when refused', async () => {
      const ok = helper(async () => ({ user: {}, token: 't', until: undefined }));
      await expect(
        ok.graphql.mercuriusOnConnect({ payload: { Authorization: 'Bearer abc' } }),
      ).resolves.toBe(true);
      expect(ok.authenticateConnection).toHaveBeenCalledWith(
        {},
        { kind: 'token', token: 'abc' },
        'graphql',
      );
      const refused = helper(() => Promise.reject(new MissingTokenException('r')));
      await expect(refused.graphql.mercuriusOnConnect({})).resolves.toBe(false);
    });

    it('an error that is not a refusal is not swallowed', async () => {
      const { graphql } = helper(() => Promise.reject(new TypeError('bug')));
      await expect(graphql.mercuriusOnConnect({ payload: {} })).rejects.toThrow('bug');
    });
  });

  it('mercuriusContext puts the socket where the guards find it', () => {
    const { graphql } = helper(async () => undefined);
    const ws = socket();
    expect(graphql.mercuriusContext(ws)[MERCURIUS_SOCKET]).toBe(ws);
  });
});

describe('closeSubscriptionAtExpiry', () => {
  const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

  it('closes the socket with 4403 once the token is past its time', async () => {
    const ws = socket();
    closeSubscriptionAtExpiry(ws, Date.now() / 1000 - 1, options);
    await tick();
    expect(ws.close).toHaveBeenCalledWith(4403, 'Invalid token');
  });

  it.each([
    ['closeOnExpiry: false', { contexts: { graphql: { closeOnExpiry: false } } }],
    ['contexts.graphql: false', { contexts: { graphql: false } }],
  ])('does nothing with %s', async (_name, settings) => {
    const ws = socket();
    closeSubscriptionAtExpiry(
      ws,
      Date.now() / 1000 - 1,
      settings as unknown as ResolvedVoxKeyOptions,
    );
    await tick();
    expect(ws.close).not.toHaveBeenCalled();
  });
});
