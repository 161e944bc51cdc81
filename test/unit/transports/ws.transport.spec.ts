import type { ExecutionContext } from '@nestjs/common';
import { MissingTokenException } from '../../../lib/index';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';

const major = jest.fn<number | undefined, []>();
jest.mock('../../../lib/utils/nest-version.util', () => ({ nestMajor: () => major() }));

// Loaded after the mock, so the transport reads the mocked version.
const { attachVoxKeyHandshake, wsTransport } = jest.requireActual<
  typeof import('../../../lib/transports/ws.transport')
>('../../../lib/transports/ws.transport');

function wsContext(client: object): ExecutionContext {
  return {
    getType: () => 'ws',
    switchToWs: () => ({ getClient: () => client, getData: () => ({}), getPattern: () => 'm' }),
  } as unknown as ExecutionContext;
}

describe('wsTransport refusals on a `ws` socket', () => {
  const refusal = new MissingTokenException('api');

  it('NestJS 11 sends no frame on a ws socket: the transport sends the exception frame itself', async () => {
    major.mockReturnValue(11);
    const client = { send: jest.fn(), close: jest.fn() };
    const error = await wsTransport.refuse(wsContext(client), refusal);
    expect(client.send).toHaveBeenCalledTimes(1);
    expect(JSON.parse(client.send.mock.calls[0][0] as string)).toEqual({
      event: 'exception',
      data: { status: 'error', statusCode: 401, error: 'No token', message: refusal.message },
    });
    expect(error).toMatchObject({ error: { statusCode: 401, error: 'No token' } });
  });

  it('NestJS 12 sends it itself, and socket.io always does: nothing is sent twice', async () => {
    major.mockReturnValue(12);
    const ws = { send: jest.fn(), close: jest.fn() };
    await wsTransport.refuse(wsContext(ws), refusal);
    major.mockReturnValue(11);
    const io = { handshake: {}, send: jest.fn(), emit: jest.fn(), disconnect: jest.fn() };
    await wsTransport.refuse(wsContext(io), refusal);
    expect([ws.send.mock.calls.length, io.send.mock.calls.length]).toEqual([0, 0]);
  });
});

describe('wsTransport credentials of a `ws` socket', () => {
  it('an upgrade URL that URL cannot parse is malformed credentials, never a crash', () => {
    const client = { send: jest.fn(), close: jest.fn() };
    attachVoxKeyHandshake(client, { url: '//', headers: {} } as never);
    const options = resolveVoxKeyOptions({
      domain: 'https://your-domain.com',
      realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
      audience: 'https://api.example.com',
      contexts: { ws: { allowQueryToken: true } },
    });
    expect(wsTransport.credentials(wsContext(client), options)).toEqual({
      kind: 'malformed',
      detail: 'the upgrade URL cannot be parsed',
    });
  });
});
