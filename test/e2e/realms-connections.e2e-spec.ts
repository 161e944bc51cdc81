import { type INestApplication, Logger } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import type { Client } from 'graphql-ws';
import { type OnGatewayConnection, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import type { Namespace, Socket as ServerSocket } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import {
  VoxKeyGraphQL,
  VoxKeyModule,
  type VoxKeyModuleOptions,
  VoxKeySockets,
  type VoxKeyTenancyRequest,
} from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { createGraphQLApp, type GraphQLApp } from '../support/graphql-app';
import {
  FeedPubSub,
  FeedResolver,
  graphqlWsClient,
  record,
  until,
} from '../support/graphql-subscriptions';
import { createGatewayApp, nextEvent } from '../support/ws-app';

const AUDIENCE = 'https://api.example.test/shared';

/** What the resolver was shown, per call. */
const seen: Pick<VoxKeyTenancyRequest, 'context' | 'host'>[] = [];

/** Two realms sharing an audience, told apart by the host the resolver is shown. */
const tenancyOptions = (a: VoxKeyTestRealm, b: VoxKeyTestRealm): VoxKeyModuleOptions => ({
  domain: a.domain,
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
});

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
      [VoxKeyModule.forRoot(tenancyOptions(a, b))],
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

/** graphql-ws subscriptions through the connection helper: bound from the upgrade request. */
describe('GraphQL subscription connections with several realms are bound by tenancy.resolve', () => {
  let a: VoxKeyTestRealm;
  let b: VoxKeyTestRealm;
  let gql: GraphQLApp;
  const clients: Client[] = [];

  const connect = (token: string, host: string) => {
    const connection = graphqlWsClient(gql.wsUrl, {
      connectionParams: { authorization: `Bearer ${token}` },
      headers: { host },
    });
    clients.push(connection.client);
    return connection;
  };

  beforeAll(async () => {
    [a, b] = await Promise.all([VoxKeyTestRealm.start(), VoxKeyTestRealm.start()]);
    const graphql = GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      inject: [VoxKeyGraphQL],
      useFactory: (helper: VoxKeyGraphQL) => ({
        autoSchemaFile: true,
        graphiql: false,
        subscriptions: { 'graphql-ws': { onConnect: helper.graphqlWsOnConnect } },
      }),
    });
    gql = await createGraphQLApp(
      'apollo-express',
      [VoxKeyModule.forRoot(tenancyOptions(a, b)), graphql],
      [FeedResolver, FeedPubSub],
    );
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
  });
  afterAll(async () => {
    await gql?.app.close();
    await Promise.all([a?.close(), b?.close()]);
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it("A's token on A's host: acknowledged, after the resolver saw a 'graphql' call; events flow", async () => {
    const { client, log } = connect(a.mint({ claims: { aud: AUDIENCE } }), 'acme.example.test');
    await until(() => log.acks.length === 1);
    expect(seen).toEqual([{ context: 'graphql', host: 'acme.example.test' }]);
    const subscription = record(client, 'subscription { feed }');
    const pubsub = gql.app.get(FeedPubSub);
    await until(() => pubsub.listeners === 1);
    pubsub.publish('for acme');
    await until(() => subscription.values.includes('for acme'));
    expect(log.closes).toEqual([]);
  });

  it("A's token on B's host: closed with 4403 'Invalid token', never acknowledged", async () => {
    const { log } = connect(a.mint({ claims: { aud: AUDIENCE } }), 'globex.example.test');
    await until(() => log.closes.length > 0);
    expect(log.closes).toEqual([{ code: 4403, reason: 'Invalid token' }]);
    expect(log.acks).toEqual([]);
    expect(seen).toEqual([{ context: 'graphql', host: 'globex.example.test' }]);
  });
});
