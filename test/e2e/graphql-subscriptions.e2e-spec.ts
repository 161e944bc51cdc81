import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import type { Client } from 'graphql-ws';
import { VoxKeyGraphQL, VoxKeyModule, type VoxKeyModuleOptions } from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { CaptureLogger } from '../support/capture-logger';
import {
  createGraphQLApp,
  type GraphQLApp,
  type GraphQLDriverName,
  graphqlModule,
} from '../support/graphql-app';
import {
  FeedPubSub,
  FeedResolver,
  graphqlWsClient,
  record,
  type SubscriptionLog,
  until,
} from '../support/graphql-subscriptions';

const FEED = 'subscription { feed }';
const POSTS_FEED = 'subscription { postsFeed }';

/** The GraphQL module with subscriptions, with or without the connection-time helpers. */
function subscriptionModule(driver: GraphQLDriverName, withHelper: boolean) {
  if (!withHelper) {
    return driver === 'mercurius'
      ? graphqlModule('mercurius', { subscription: true })
      : graphqlModule(driver, { subscriptions: { 'graphql-ws': true } });
  }
  return driver === 'mercurius'
    ? GraphQLModule.forRootAsync<MercuriusDriverConfig>({
        driver: MercuriusDriver,
        inject: [VoxKeyGraphQL],
        useFactory: (helper: VoxKeyGraphQL) => ({
          autoSchemaFile: true,
          graphiql: false,
          cache: false,
          subscription: { onConnect: helper.mercuriusOnConnect, context: helper.mercuriusContext },
        }),
      })
    : GraphQLModule.forRootAsync<ApolloDriverConfig>({
        driver: ApolloDriver,
        inject: [VoxKeyGraphQL],
        useFactory: (helper: VoxKeyGraphQL) => ({
          autoSchemaFile: true,
          graphiql: false,
          subscriptions: { 'graphql-ws': { onConnect: helper.graphqlWsOnConnect } },
        }),
      });
}

/** Starts a realm and an app with graphql-ws subscriptions: Apollo (Express) or Mercurius. */
function subscriptionScenario(
  driver: GraphQLDriverName,
  withHelper: boolean,
  options: Partial<VoxKeyModuleOptions> = {},
) {
  const ctx = {} as { realm: VoxKeyTestRealm; gql: GraphQLApp; pubsub: FeedPubSub };
  const logger = new CaptureLogger();
  const clients: Client[] = [];
  beforeAll(async () => {
    ctx.realm = await VoxKeyTestRealm.start();
    const voxkey = VoxKeyModule.forRoot(
      ctx.realm.moduleOptions({
        clockTolerance: 0,
        jwks: { cooldownMs: 0 },
        contexts: { graphql: { connectionParamsKey: 'authToken' } },
        ...options,
      }),
    );
    const graphql = subscriptionModule(driver, withHelper);
    ctx.gql = await createGraphQLApp(driver, [voxkey, graphql], [FeedResolver, FeedPubSub], logger);
    ctx.pubsub = ctx.gql.app.get(FeedPubSub);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
    // The server ends a closed socket's subscriptions; each test starts with none.
    await until(() => ctx.pubsub.listeners === 0);
  });
  afterAll(async () => {
    await ctx.gql?.app.close();
    await ctx.realm?.close();
  });
  const connect = (options: Parameters<typeof graphqlWsClient>[1] = {}) => {
    const connection = graphqlWsClient(ctx.gql.wsUrl, options);
    clients.push(connection.client);
    return connection;
  };
  /** Subscribes, waits until the server listens, publishes `value` and waits for it. */
  const expectDelivered = async (
    subscription: SubscriptionLog,
    listeners: number,
    value: string,
  ) => {
    await until(() => ctx.pubsub.listeners === listeners);
    ctx.pubsub.publish(value);
    await until(() => subscription.values.includes(value));
  };
  return { ctx, logger, connect, expectDelivered };
}

describe.each(['apollo-express', 'apollo-fastify', 'mercurius'] as const)(
  'GraphQL subscriptions over graphql-ws on %s, checked at each subscribe',
  (driver) => {
    const { ctx, logger, connect, expectDelivered } = subscriptionScenario(driver, false);
    const tokens: string[] = [];
    const mint = (...args: Parameters<VoxKeyTestRealm['mint']>) => {
      const token = ctx.realm.mint(...args);
      tokens.push(token);
      return token;
    };

    it.each([
      [
        'connectionParams.authorization',
        (t: string) => ({ connectionParams: { authorization: `Bearer ${t}` } }),
      ],
      [
        'connectionParams.Authorization',
        (t: string) => ({ connectionParams: { Authorization: `Bearer ${t}` } }),
      ],
      [
        'connectionParams.AUTHORIZATION',
        (t: string) => ({ connectionParams: { AUTHORIZATION: `Bearer ${t}` } }),
      ],
      [
        'connectionParams.headers.authorization',
        (t: string) => ({ connectionParams: { headers: { authorization: `Bearer ${t}` } } }),
      ],
      [
        'connectionParams.headers.Authorization',
        (t: string) => ({ connectionParams: { headers: { Authorization: `Bearer ${t}` } } }),
      ],
      [
        'the connectionParamsKey (a raw token)',
        (t: string) => ({ connectionParams: { authToken: t } }),
      ],
      [
        "the upgrade request's Authorization header",
        (t: string) => ({ headers: { authorization: `Bearer ${t}` } }),
      ],
      [
        'the same token twice (params and header)',
        (t: string) => ({
          connectionParams: { authorization: `Bearer ${t}` },
          headers: { authorization: `Bearer ${t}` },
        }),
      ],
    ])('a token in %s: events are delivered', async (_name, options) => {
      const { client, log } = connect(options(mint()));
      const subscription = record(client, FEED);
      await expectDelivered(subscription, 1, 'hello');
      expect(subscription.errors).toEqual([]);
      expect(log.closes).toEqual([]);
    });

    it.each([
      ['no token', {}, { code: 'UNAUTHENTICATED', statusCode: 401, error: 'No token' }],
      [
        'an invalid token',
        { connectionParams: { authorization: 'Bearer abc.def.ghi' } },
        {
          code: 'UNAUTHENTICATED',
          statusCode: 401,
          error: 'Invalid token',
          oauthError: 'invalid_token',
        },
      ],
      [
        'a malformed authorization',
        { connectionParams: { authorization: 'Bearer a b' } },
        {
          code: 'BAD_REQUEST',
          statusCode: 400,
          error: 'Invalid request',
          oauthError: 'invalid_request',
        },
      ],
    ])(
      '%s: the subscribe gets an error with extensions.code, the socket stays open',
      async (_name, options, extensions) => {
        const { client, log } = connect(options);
        const subscription = record(client, FEED);
        await until(() => subscription.ended);
        expect(subscription.failure).toBeUndefined();
        expect(subscription.values).toEqual([]);
        expect(subscription.errors).toHaveLength(1);
        expect(subscription.errors[0].extensions).toEqual(extensions);
        expect(log.closes).toEqual([]);
      },
    );

    it('two different credentials (connectionParams and the upgrade header): BAD_REQUEST', async () => {
      const { client } = connect({
        connectionParams: { authorization: `Bearer ${mint()}` },
        headers: { authorization: `Bearer ${mint()}` },
      });
      const subscription = record(client, FEED);
      await until(() => subscription.ended);
      expect(subscription.errors.map((error) => error.extensions?.code)).toEqual(['BAD_REQUEST']);
    });

    it('a missing scope: FORBIDDEN for that subscription, the socket stays open for another', async () => {
      const { client, log } = connect({ connectionParams: { authorization: `Bearer ${mint()}` } });
      const refused = record(client, POSTS_FEED);
      await until(() => refused.ended);
      expect(refused.errors[0].extensions).toEqual({
        code: 'FORBIDDEN',
        statusCode: 403,
        error: 'Insufficient scope',
        oauthError: 'insufficient_scope',
        scope: 'read:posts',
      });
      const allowed = record(client, FEED);
      await expectDelivered(allowed, 1, 'still open');
      expect(refused.values).toEqual([]);
      expect(log.closes).toEqual([]);
    });

    // Mercurius resolvers cannot reach their socket without VoxKeyGraphQL.mercuriusContext.
    if (driver !== 'mercurius')
      it('closeOnExpiry: a token living ~2 s is closed with 4403, and no event arrives after', async () => {
        const { client, log } = connect({
          connectionParams: { authorization: `Bearer ${mint({ expiresIn: 2 })}` },
        });
        const subscription = record(client, FEED);
        await expectDelivered(subscription, 1, 'before');
        await until(() => log.closes.length > 0, 4000);
        expect(log.closes).toEqual([{ code: 4403, reason: 'Invalid token' }]);
        // The server ended the subscription with the socket.
        await until(() => ctx.pubsub.listeners === 0);
        ctx.pubsub.publish('after');
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(subscription.values).toEqual(['before']);
      });

    it('no token appears in the log', () => {
      const log = logger.lines.join('\n');
      for (const token of tokens) expect(log).not.toContain(token.split('.')[2]);
    });
  },
);

describe('GraphQL subscriptions with the connection-time helper (graphqlWsOnConnect)', () => {
  const { ctx, connect, expectDelivered } = subscriptionScenario('apollo-express', true);

  it('after the expiry close the graphql-ws client reconnects with fresh connectionParams and resubscribes', async () => {
    const tokens = [ctx.realm.mint({ expiresIn: 2 }), ctx.realm.mint({ expiresIn: 600 })];
    const sent: string[] = [];
    const closes: number[] = [];
    const client = createClient({
      url: ctx.gql.wsUrl,
      webSocketImpl: WebSocket,
      lazy: false,
      onNonLazyError: () => undefined,
      // 4403 is not fatal to graphql-ws: it retries, asking connectionParams again (the refresh).
      retryAttempts: 3,
      retryWait: () => Promise.resolve(),
      connectionParams: () => {
        const token = tokens[Math.min(sent.length, tokens.length - 1)];
        sent.push(token);
        return { authorization: `Bearer ${token}` };
      },
      on: { closed: (event) => closes.push((event as { code: number }).code) },
    });
    try {
      const subscription = record(client, FEED);
      await expectDelivered(subscription, 1, 'first token');
      await until(() => closes.length > 0, 4000);
      expect(closes).toEqual([4403]);
      // The client came back with the fresh token and subscribed again on the new socket.
      await expectDelivered(subscription, 1, 'fresh token');
      expect(sent).toEqual(tokens);
      expect(subscription.values).toEqual(['first token', 'fresh token']);
    } finally {
      await client.dispose();
    }
  });

  it('a valid token: connection_ack carries no payload (no claims), events are delivered', async () => {
    const { client, log } = connect({
      connectionParams: { authorization: `Bearer ${ctx.realm.mint({ subject: 'carol' })}` },
    });
    const subscription = record(client, FEED);
    await expectDelivered(subscription, 1, 'welcome');
    expect(log.acks).toEqual([undefined]);
    expect(log.closes).toEqual([]);
  });

  it.each([
    ['no token', {}, 4403, 'No token'],
    [
      'an invalid token',
      { connectionParams: { authorization: 'Bearer abc.def.ghi' } },
      4403,
      'Invalid token',
    ],
    [
      'an expired token',
      () => ({ connectionParams: { authToken: ctx.realm.mint({ expiresIn: -60 }) } }),
      4403,
      'Invalid token',
    ],
    [
      'a malformed authorization',
      { connectionParams: { authorization: 'Bearer a b' } },
      4400,
      'Invalid request',
    ],
    [
      'two different credentials',
      () => ({
        connectionParams: { authorization: `Bearer ${ctx.realm.mint()}` },
        headers: { authorization: `Bearer ${ctx.realm.mint()}` },
      }),
      4400,
      'Invalid request',
    ],
  ])(
    '%s: the connection is closed before any subscription',
    async (_name, options, code, reason) => {
      const { client, log } = connect(typeof options === 'function' ? options() : options);
      const subscription = record(client, FEED);
      await until(() => log.closes.length > 0);
      expect(log.closes).toEqual([{ code, reason }]);
      expect(log.acks).toEqual([]);
      expect(subscription.values).toEqual([]);
      expect(ctx.pubsub.listeners).toBe(0);
    },
  );

  it('the key set unavailable: closed with 1013 (try again later), never let in', async () => {
    ctx.realm.rotateKeys();
    ctx.realm.jwksAvailable = false;
    try {
      const { client, log } = connect({
        connectionParams: { authorization: `Bearer ${ctx.realm.mint()}` },
      });
      record(client, FEED);
      await until(() => log.closes.length > 0);
      expect(log.closes).toEqual([{ code: 1013, reason: 'Service Unavailable' }]);
      expect(log.acks).toEqual([]);
    } finally {
      ctx.realm.jwksAvailable = true;
    }
  });

  it('a token living ~2 s: the connection is closed with 4403 at expiry, no event after', async () => {
    const { client, log } = connect({
      connectionParams: { authorization: `Bearer ${ctx.realm.mint({ expiresIn: 2 })}` },
    });
    const subscription = record(client, FEED);
    await expectDelivered(subscription, 1, 'before');
    await until(() => log.closes.length > 0, 4000);
    expect(log.closes).toEqual([{ code: 4403, reason: 'Invalid token' }]);
    await until(() => ctx.pubsub.listeners === 0);
    ctx.pubsub.publish('after');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(subscription.values).toEqual(['before']);
  });
});

describe('Mercurius subscriptions with the connection-time helpers (mercuriusOnConnect, mercuriusContext)', () => {
  const { ctx, connect, expectDelivered } = subscriptionScenario('mercurius', true);

  it('a valid token: connection_ack carries no payload, events are delivered', async () => {
    const { client, log } = connect({
      connectionParams: { authorization: `Bearer ${ctx.realm.mint()}` },
    });
    const subscription = record(client, FEED);
    await expectDelivered(subscription, 1, 'welcome');
    expect(log.acks).toEqual([undefined]);
    expect(log.closes).toEqual([]);
  });

  it.each([
    ['no token', {}],
    ['an invalid token', { connectionParams: { authorization: 'Bearer abc.def.ghi' } }],
    ['a malformed authorization', { connectionParams: { authorization: 'Bearer a b' } }],
  ])('%s: Mercurius refuses the connection before any subscription', async (_name, options) => {
    const { client, log } = connect(options);
    const subscription = record(client, FEED);
    await until(() => log.closes.length > 0);
    // Mercurius's own answer: a `connection_error` message (not in the graphql-transport-ws
    // protocol, so the client fails on it), then a close without a code.
    expect(log.closes).toEqual([{ code: 1005, reason: '' }]);
    expect(String(subscription.failure)).toContain('connection_error');
    expect(log.acks).toEqual([]);
    expect(subscription.values).toEqual([]);
    expect(ctx.pubsub.listeners).toBe(0);
  });

  it('a token living ~2 s: the socket is closed with 4403 at expiry, no event after', async () => {
    const { client, log } = connect({
      connectionParams: { authorization: `Bearer ${ctx.realm.mint({ expiresIn: 2 })}` },
    });
    const subscription = record(client, FEED);
    await expectDelivered(subscription, 1, 'before');
    await until(() => log.closes.length > 0, 4000);
    expect(log.closes).toEqual([{ code: 4403, reason: 'Invalid token' }]);
    await until(() => ctx.pubsub.listeners === 0);
    ctx.pubsub.publish('after');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(subscription.values).toEqual(['before']);
  });
});

describe('the connection-time helpers under a single protected resource', () => {
  const MCP = 'https://api.example.com/graphql';
  // The realm accepts its default audience and the resource; the resource only the latter.
  const options = { audience: ['https://api.example.test', MCP], resource: MCP };

  describe('graphqlWsOnConnect', () => {
    const { ctx, connect, expectDelivered } = subscriptionScenario('apollo-express', true, options);

    it("closes with 4403 a connection whose token's aud does not name the resource", async () => {
      const { client, log } = connect({
        connectionParams: { authorization: `Bearer ${ctx.realm.mint()}` },
      });
      const subscription = record(client, FEED);
      await until(() => log.closes.length > 0);
      expect(log.closes).toEqual([{ code: 4403, reason: 'Invalid token' }]);
      expect(log.acks).toEqual([]);
      expect(subscription.values).toEqual([]);
    });

    it('lets in a token for the resource', async () => {
      const token = ctx.realm.mint({ claims: { aud: MCP } });
      const { client, log } = connect({ connectionParams: { authorization: `Bearer ${token}` } });
      await expectDelivered(record(client, FEED), 1, 'for the resource');
      expect(log.closes).toEqual([]);
    });
  });

  describe('mercuriusOnConnect', () => {
    const { ctx, connect, expectDelivered } = subscriptionScenario('mercurius', true, options);

    it("refuses a connection whose token's aud does not name the resource", async () => {
      const { client, log } = connect({
        connectionParams: { authorization: `Bearer ${ctx.realm.mint()}` },
      });
      const subscription = record(client, FEED);
      await until(() => log.closes.length > 0);
      expect(String(subscription.failure)).toContain('connection_error');
      expect(log.acks).toEqual([]);
    });

    it('lets in a token for the resource', async () => {
      const token = ctx.realm.mint({ claims: { aud: MCP } });
      const { client, log } = connect({ connectionParams: { authorization: `Bearer ${token}` } });
      await expectDelivered(record(client, FEED), 1, 'for the resource');
      expect(log.closes).toEqual([]);
    });
  });
});
