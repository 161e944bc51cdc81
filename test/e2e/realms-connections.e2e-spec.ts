import { type INestApplication, Logger } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import type { Namespace, Socket as ServerSocket } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { VoxKeyModule, VoxKeySockets, type VoxKeyTenancyRequest } from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { createGatewayApp, nextEvent } from '../support/ws-app';

const AUDIENCE = 'https://api.example.test/shared';

/** The realm of every socket handleConnection saw, as VoxKeySockets.user gives it. */
const connected: (string | undefined)[] = [];

/** A namespace whose sockets are verified when they connect, by the library's middleware. */
@WebSocketGateway({ namespace: 'tenants' })
class TenantsGateway implements OnGatewayInit, OnGatewayConnection {
  constructor(private readonly sockets: VoxKeySockets) {}

  afterInit(namespace: Namespace): void {
    namespace.use(this.sockets.ioMiddleware());
  }

  handleConnection(client: ServerSocket): void {
    connected.push(this.sockets.user(client)?.realm);
  }
}

/**
 * A connection has no route: with several realms sharing an audience, `tenancy.resolve` binds a
 * socket.io connection from its handshake, as it binds an HTTP request.
 */
describe('socket.io connections with several realms are bound by tenancy.resolve', () => {
  let a: VoxKeyTestRealm;
  let b: VoxKeyTestRealm;
  let app: INestApplication;
  let url: string;
  /** What the resolver was shown, per call. */
  const seen: Pick<VoxKeyTenancyRequest, 'context' | 'host'>[] = [];
  const sockets: Socket[] = [];

  const open = (token: string, host: string) => {
    const socket = io(`${url}/tenants`, {
      reconnection: false,
      forceNew: true,
      transports: ['websocket'],
      auth: { token },
      extraHeaders: { host },
    });
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    [a, b] = await Promise.all([VoxKeyTestRealm.start(), VoxKeyTestRealm.start()]);
    const started = await createGatewayApp(
      [
        VoxKeyModule.forRoot({
          domain: a.domain,
          // Both realms give this API the same audience: only the resolver tells them apart.
          audience: AUDIENCE,
          realms: [
            { id: 'acme', realm: a.realm },
            { id: 'globex', realm: b.realm, domain: b.domain },
          ],
          tenancy: {
            resolve: ({ context, host }) => {
              seen.push({ context, host });
              return host === 'acme.example.test' ? 'acme' : 'globex';
            },
          },
        }),
      ],
      [TenantsGateway],
    );
    app = started.app;
    url = `http://127.0.0.1:${started.port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await app?.close();
    await Promise.all([a?.close(), b?.close()]);
  });
  beforeEach(() => {
    connected.length = 0;
    seen.length = 0;
  });

  it("A's token on A's host connects; handleConnection sees realm 'acme'; the resolver saw a 'ws' call", async () => {
    const socket = open(a.mint({ claims: { aud: AUDIENCE } }), 'acme.example.test');
    await nextEvent(socket, 'connect');
    expect(connected).toEqual(['acme']);
    expect(seen).toEqual([{ context: 'ws', host: 'acme.example.test' }]);
  });

  it("A's token on B's host: connect_error 'Invalid token', and handleConnection never runs", async () => {
    const socket = open(a.mint({ claims: { aud: AUDIENCE } }), 'globex.example.test');
    let opened = false;
    socket.on('connect', () => (opened = true));
    const error = await nextEvent<Error & { data?: unknown }>(socket, 'connect_error');
    expect(error.message).toBe('Invalid token');
    expect(error.data).toStrictEqual({ statusCode: 401, code: 'invalid_token' });
    expect(opened).toBe(false);
    expect(connected).toEqual([]);
    expect(seen).toEqual([{ context: 'ws', host: 'globex.example.test' }]);
    // B's token is the one that host accepts.
    const other = open(b.mint({ claims: { aud: AUDIENCE } }), 'globex.example.test');
    await nextEvent(other, 'connect');
    expect(connected).toEqual(['globex']);
  });
});
