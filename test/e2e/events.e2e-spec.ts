import {
  Controller,
  Get,
  type INestApplication,
  type INestMicroservice,
  Module,
} from '@nestjs/common';
import {
  type ClientProxy,
  ClientProxyFactory,
  type MicroserviceOptions,
  type TcpClientOptions,
  Transport,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { type OnGatewayInit, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Namespace } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import {
  M2MTokenService,
  OptionalAuth,
  Public,
  RequireActiveToken,
  RevocationService,
  Scopes,
  VOXKEY_CHANNELS,
  VoxKeyEvents,
  VoxKeyGraphQL,
  VoxKeyModule,
  type VoxKeyModuleOptions,
  VoxKeySockets,
} from '../../lib/index';
import { publish } from '../../lib/events/event-channels';
import { MAX_TOKEN_LENGTH } from '../../lib/voxkey.constants';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { createApp, PLATFORMS } from '../support/app';
import { CaptureLogger } from '../support/capture-logger';
import { EventRecorder, expectNoTokenText } from '../support/event-recorder';
import { freePort } from '../support/free-port';
import {
  createGraphQLApp,
  type GraphQLApp,
  graphqlModule,
  postGraphQL,
} from '../support/graphql-app';
import { PostsResolver } from '../support/graphql-resolvers';
import { json } from '../support/http-stub';
import { JWT_RESOURCE, M2M_CLIENT, OidcRealm } from '../support/oidc-realm';
import { reply, RpcPostsController, sendAuthorization, until } from '../support/rpc-handlers';
import { b64url, payloadOf } from '../support/token-forge';
import { nextEvent } from '../support/ws-app';

// Every publish() is counted, to show that nothing is published (or built) when nobody listens.
jest.mock('../../lib/events/event-channels', () => {
  const actual = jest.requireActual('../../lib/events/event-channels');
  return { ...actual, publish: jest.fn(actual.publish) };
});
const published = jest.mocked(publish);

/** Whether any of the library's channels has a subscriber. */
const anyoneListening = () =>
  Object.values(VOXKEY_CHANNELS).some((name) => channel(name).hasSubscribers);

@Controller()
class EventRoutes {
  @Public() @Get('public') publicRoute() {
    return { public: true };
  }

  @Get('open') open() {
    return { ok: true };
  }

  @Scopes('read:posts') @Get('posts') posts() {
    return ['post'];
  }

  @OptionalAuth() @Get('optional') optional() {
    return { optional: true };
  }

  @OptionalAuth({ invalidToken: 'anonymous' }) @Get('lenient') lenient() {
    return { lenient: true };
  }

  @RequireActiveToken() @Get('live') live() {
    return { live: true };
  }
}

const REALM = 'default';
const accepted = (context: string, cached: boolean, realm: string = REALM) => ({
  type: 'auth.accepted',
  context,
  realm,
  cached,
});
const refused = (
  context: string,
  reason: string,
  status: number,
  extra: { realm?: string; anonymous?: boolean } = {},
) => ({
  type: 'auth.refused',
  context,
  realm: 'realm' in extra ? extra.realm : REALM,
  reason,
  status,
  anonymous: extra.anonymous ?? false,
});
const fetched = (trigger: string, realm: string = REALM) => ({
  type: 'jwks.fetch',
  realm,
  trigger,
  outcome: 'ok',
  keys: 1,
});

/** A token whose payload was changed after signing. */
function tampered(token: string): string {
  const [header, payload, signature] = token.split('.');
  return `${header}.${b64url({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'admin' })}.${signature}`;
}

describe.each(PLATFORMS)('events of HTTP routes on %s', (platform) => {
  const logger = new CaptureLogger();
  const recorder = new EventRecorder();
  const tokens: string[] = [];
  let realm: VoxKeyTestRealm;
  let app: INestApplication;
  const mint = (...args: Parameters<VoxKeyTestRealm['mint']>) => {
    const token = realm.mint(...args);
    tokens.push(token);
    return token;
  };
  const get = (path: string, authorization?: string) => {
    const req = request(app.getHttpServer()).get(path);
    return authorization === undefined ? req : req.set('Authorization', authorization);
  };

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
    app = await createApp(
      platform,
      // A long cool-down: an unknown kid right after the first fetch is held back.
      [VoxKeyModule.forRoot(realm.moduleOptions({ prewarm: 'off', jwks: { cooldownMs: 60_000 } }))],
      [EventRoutes],
      logger,
    );
    app.useLogger(logger);
    recorder.start(app.get(VoxKeyEvents));
  });
  afterAll(async () => {
    recorder.stop();
    await app?.close();
    await realm?.close();
  });

  it('the first call fetches the key set once (unknown_kid); the next one is a cache hit', async () => {
    const token = mint();
    expect((await get('/open', `Bearer ${token}`)).status).toBe(200);
    expect(recorder.take()).toEqual([fetched('unknown_kid'), accepted('http', false)]);
    expect((await get('/open', `Bearer ${token}`)).status).toBe(200);
    expect(recorder.take()).toEqual([accepted('http', true)]);
    expect(realm.jwksRequests).toBe(1);
  });

  it.each([
    ['no token', '/open', () => undefined, 'no_token', 401],
    ['another scheme', '/open', () => 'Basic dXNlcjpwYXNz', 'no_token', 401],
    ['junk after the token', '/open', () => `Bearer ${mint()} junk`, 'invalid_request', 400],
    ['an expired token', '/open', () => `Bearer ${mint({ expiresIn: -60 })}`, 'expired', 401],
    ['a bad signature', '/open', () => `Bearer ${tampered(mint())}`, 'signature', 401],
    [
      'another audience',
      '/open',
      () => `Bearer ${mint({ claims: { aud: 'https://other.example' } })}`,
      'audience',
      401,
    ],
    [
      'another issuer',
      '/open',
      () => `Bearer ${mint({ claims: { iss: `${realm.issuer}/` } })}`,
      'issuer',
      401,
    ],
    [
      'a token too long',
      '/open',
      () => `Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`,
      'too_large',
      401,
    ],
  ])(
    '%s: one auth.refused with its reason and status',
    async (_name, path, header, reason, status) => {
      const res = await get(path, header());
      expect(res.status).toBe(status);
      expect(recorder.take()).toEqual([refused('http', reason, status)]);
    },
  );

  it('a token without the scope: auth.accepted (authentication), then auth.refused insufficient_scope (ScopesGuard)', async () => {
    const res = await get('/posts', `Bearer ${mint({ scope: 'write:posts' })}`);
    expect(res.status).toBe(403);
    expect(recorder.take()).toEqual([
      accepted('http', false),
      refused('http', 'insufficient_scope', 403),
    ]);
    expect((await get('/posts', `Bearer ${mint({ scope: 'read:posts' })}`)).status).toBe(200);
    expect(recorder.take()).toEqual([accepted('http', false)]);
  });

  it('an unknown kid within the cool-down: jwks.cooldown and unknown_key, no fetch', async () => {
    const before = realm.jwksRequests;
    const res = await get('/open', `Bearer ${mint({ header: { kid: 'no-such-kid' } })}`);
    expect(res.status).toBe(401);
    expect(recorder.take()).toEqual([
      { type: 'jwks.cooldown', realm: REALM },
      refused('http', 'unknown_key', 401),
    ]);
    expect(realm.jwksRequests).toBe(before);
  });

  it('public routes and anonymous @OptionalAuth() calls publish nothing', async () => {
    expect((await get('/public')).status).toBe(200);
    expect((await get('/public', `Bearer ${tampered(mint())}`)).status).toBe(200);
    expect((await get('/optional')).status).toBe(200);
    expect((await get('/lenient')).status).toBe(200);
    expect(recorder.take()).toEqual([]);
    // With a token, an optional route is an authenticated call like any other.
    expect((await get('/optional', `Bearer ${mint()}`)).status).toBe(200);
    expect((await get('/optional', `Bearer ${mint({ expiresIn: -60 })}`)).status).toBe(401);
    expect(recorder.take()).toEqual([accepted('http', false), refused('http', 'expired', 401)]);
  });

  it("@OptionalAuth({ invalidToken: 'anonymous' }) with an expired token: auth.refused with anonymous: true, and a 200", async () => {
    const res = await get('/lenient', `Bearer ${mint({ expiresIn: -60 })}`);
    expect(res.status).toBe(200);
    expect(recorder.take()).toEqual([refused('http', 'expired', 401, { anonymous: true })]);
  });

  it('a listener that throws changes no status; it is logged once and the other listeners still get every event', async () => {
    const events = app.get(VoxKeyEvents);
    const offs = [
      events.on('auth.accepted', () => {
        throw new Error('listener bug');
      }),
      events.on('auth.refused', () => {
        throw new TypeError('listener bug');
      }),
    ];
    try {
      const token = mint();
      expect((await get('/open', `Bearer ${token}`)).status).toBe(200);
      expect((await get('/open')).status).toBe(401);
      expect((await get('/open', `Bearer ${token}`)).status).toBe(200);
      expect((await get('/posts', `Bearer ${mint({ scope: 'write:posts' })}`)).status).toBe(403);
      expect(recorder.take()).toEqual([
        accepted('http', false),
        refused('http', 'no_token', 401),
        accepted('http', true),
        accepted('http', false),
        refused('http', 'insufficient_scope', 403),
      ]);
      const errors = logger.lines.filter((line) => line.includes('listener threw'));
      expect(errors).toEqual([
        expect.stringMatching(
          /^error A 'auth\.accepted' listener threw \(Error\); the library carries on\b/,
        ),
        expect.stringMatching(
          /^error A 'auth\.refused' listener threw \(TypeError\); the library carries on\b/,
        ),
      ]);
    } finally {
      for (const off of offs) off();
    }
  });

  it('no event holds token text (tokens, their segments, sub, jti, iss)', () => {
    expectNoTokenText(recorder.all, tokens);
  });

  it('with nobody listening, nothing is published (so nothing is built)', async () => {
    recorder.stop();
    expect(anyoneListening()).toBe(false);
    published.mockClear();
    expect((await get('/open', `Bearer ${mint()}`)).status).toBe(200);
    expect((await get('/open')).status).toBe(401);
    expect((await get('/posts', `Bearer ${mint({ scope: 'write:posts' })}`)).status).toBe(403);
    expect((await get('/open', `Bearer ${mint({ header: { kid: 'another-kid' } })}`)).status).toBe(
      401,
    );
    expect((await get('/lenient', `Bearer ${mint({ expiresIn: -60 })}`)).status).toBe(200);
    expect(published).not.toHaveBeenCalled();
    // The same calls with a listener do publish: the count above could have failed.
    recorder.start(app.get(VoxKeyEvents));
    expect((await get('/open')).status).toBe(401);
    expect(published).toHaveBeenCalledTimes(1);
    expect(recorder.take()).toEqual([refused('http', 'no_token', 401)]);
  });
});

describe.each(PLATFORMS)('events of a key set that is down on %s', (platform) => {
  const recorder = new EventRecorder();
  let realm: VoxKeyTestRealm;
  let app: INestApplication;

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
    realm.jwksAvailable = false;
    app = await createApp(
      platform,
      [VoxKeyModule.forRoot(realm.moduleOptions({ prewarm: 'off', jwks: { cooldownMs: 60_000 } }))],
      [EventRoutes],
    );
    recorder.start(app.get(VoxKeyEvents));
  });
  afterAll(async () => {
    recorder.stop();
    await app?.close();
    await realm?.close();
  });

  it('503 unavailable after a failed fetch (http_error), then the retry wait (jwks.cooldown), then keys', async () => {
    const token = realm.mint();
    const call = () =>
      request(app.getHttpServer()).get('/open').set('Authorization', `Bearer ${token}`);
    expect((await call()).status).toBe(503);
    expect(recorder.take()).toEqual([
      {
        type: 'jwks.fetch',
        realm: REALM,
        trigger: 'unknown_kid',
        outcome: 'error',
        error: 'http_error',
      },
      refused('http', 'unavailable', 503),
    ]);
    // Under a second after a failed fetch, no new one: the cool-down refuses.
    expect((await call()).status).toBe(503);
    expect(recorder.take()).toEqual([
      { type: 'jwks.cooldown', realm: REALM },
      refused('http', 'unavailable', 503),
    ]);
    expect(realm.jwksRequests).toBe(1);
    realm.jwksAvailable = true;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await call()).status).toBe(200);
    expect(recorder.take()).toEqual([fetched('unknown_kid'), accepted('http', false)]);
    expectNoTokenText(recorder.all, [token]);
  });
});

describe('events of a key set endpoint that cannot be reached', () => {
  const recorder = new EventRecorder();
  let realm: VoxKeyTestRealm;
  let app: INestApplication;

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
    // Its port is closed from now on: a connection is refused.
    await realm.close();
    app = await createApp(
      'express',
      [VoxKeyModule.forRoot(realm.moduleOptions({ prewarm: 'off' }))],
      [EventRoutes],
    );
    recorder.start(app.get(VoxKeyEvents));
  });
  afterAll(async () => {
    recorder.stop();
    await app?.close();
  });

  it('jwks.fetch with error network_error, and 503 unavailable', async () => {
    const res = await request(app.getHttpServer())
      .get('/open')
      .set('Authorization', `Bearer ${realm.mint()}`);
    expect(res.status).toBe(503);
    expect(recorder.take()).toEqual([
      {
        type: 'jwks.fetch',
        realm: REALM,
        trigger: 'unknown_kid',
        outcome: 'error',
        error: 'network_error',
      },
      refused('http', 'unavailable', 503),
    ]);
  });
});

describe('events of a key set refreshed in the background', () => {
  const recorder = new EventRecorder();
  let realm: VoxKeyTestRealm;
  let app: INestApplication;

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
    app = await createApp(
      'express',
      [
        VoxKeyModule.forRoot(
          realm.moduleOptions({ prewarm: 'off', jwks: { cacheMaxAgeMs: 1_000 } }),
        ),
      ],
      [EventRoutes],
    );
    recorder.start(app.get(VoxKeyEvents));
  });
  afterAll(async () => {
    recorder.stop();
    await app?.close();
    await realm?.close();
  });

  it("keys older than cacheMaxAgeMs: a cached call starts a fetch whose trigger is 'refresh'", async () => {
    const token = realm.mint();
    const call = () =>
      request(app.getHttpServer()).get('/open').set('Authorization', `Bearer ${token}`);
    expect((await call()).status).toBe(200);
    expect(recorder.take()).toEqual([fetched('unknown_kid'), accepted('http', false)]);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await call()).status).toBe(200);
    await until(() =>
      recorder.all.some((event) => event.type === 'jwks.fetch' && event.trigger === 'refresh'),
    );
    // The refresh runs in the background: its event may come before or after the call's.
    const events = recorder.take();
    expect(events).toHaveLength(2);
    expect(events).toEqual(expect.arrayContaining([accepted('http', true), fetched('refresh')]));
    expect(realm.jwksRequests).toBe(2);
  });
});

describe('events with several realms', () => {
  const recorder = new EventRecorder();
  const AUDIENCE = (id: string) => `https://api.example.test/t/${id}`;
  let acme: VoxKeyTestRealm;
  let globex: VoxKeyTestRealm;
  let stranger: VoxKeyTestRealm;
  let app: INestApplication;
  const get = (token?: string) => {
    const req = request(app.getHttpServer()).get('/open');
    return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
  };

  beforeAll(async () => {
    [acme, globex, stranger] = await Promise.all([
      VoxKeyTestRealm.start({ audience: AUDIENCE('acme') }),
      VoxKeyTestRealm.start({ audience: AUDIENCE('globex') }),
      VoxKeyTestRealm.start({ audience: AUDIENCE('acme') }),
    ]);
    app = await createApp(
      'express',
      [
        VoxKeyModule.forRoot({
          domain: acme.domain,
          realms: [
            { id: 'acme', realm: acme.realm, audience: AUDIENCE('acme') },
            {
              id: 'globex',
              realm: globex.realm,
              audience: AUDIENCE('globex'),
              domain: globex.domain,
            },
          ],
          jwks: { cooldownMs: 0 },
          prewarm: 'off',
        }),
      ],
      [EventRoutes],
    );
    recorder.start(app.get(VoxKeyEvents));
  });
  afterAll(async () => {
    recorder.stop();
    await app?.close();
    await Promise.all([acme, globex, stranger].map((realm) => realm?.close()));
  });

  it('each event names the configured realm id: the verified one, or the one the token claims', async () => {
    const tokens = [acme.mint(), globex.mint({ expiresIn: -60 }), stranger.mint()];
    expect((await get(tokens[0])).status).toBe(200);
    expect((await get(tokens[1])).status).toBe(401);
    expect((await get(tokens[2])).status).toBe(401);
    expect((await get()).status).toBe(401);
    expect(recorder.take()).toEqual([
      fetched('unknown_kid', 'acme'),
      accepted('http', false, 'acme'),
      // Expired is checked after the signature, with globex's keys.
      fetched('unknown_kid', 'globex'),
      refused('http', 'expired', 401, { realm: 'globex' }),
      // An issuer that is not configured: no realm, and nothing fetched.
      refused('http', 'issuer', 401, { realm: undefined }),
      refused('http', 'no_token', 401, { realm: undefined }),
    ]);
    expectNoTokenText(recorder.all, tokens);
  });
});

describe('events of GraphQL resolvers (Apollo on Express)', () => {
  const AUDIENCE = 'https://api.example.test/graphql';
  const recorder = new EventRecorder();
  const tokens: string[] = [];
  let realm: VoxKeyTestRealm;
  let gql: GraphQLApp;
  const mint = (...args: Parameters<VoxKeyTestRealm['mint']>) => {
    const token = realm.mint(...args);
    tokens.push(token);
    return token;
  };

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
    gql = await createGraphQLApp(
      'apollo-express',
      [
        VoxKeyModule.forRoot(realm.moduleOptions({ prewarm: 'off', jwks: { cooldownMs: 0 } })),
        graphqlModule('apollo-express'),
      ],
      [PostsResolver],
    );
    recorder.start(gql.app.get(VoxKeyEvents));
  });
  afterAll(async () => {
    recorder.stop();
    await gql?.app.close();
    await realm?.close();
  });

  it('a protected root field: auth.accepted with context graphql', async () => {
    const res = await postGraphQL(gql.url, '{ me }', `Bearer ${mint()}`);
    expect(res.body.data).toEqual({ me: 'test-user' });
    expect(recorder.take()).toEqual([fetched('unknown_kid'), accepted('graphql', false)]);
  });

  it('two protected root fields in one operation: one event each, the second reusing the verification', async () => {
    const res = await postGraphQL(gql.url, '{ me secret }', `Bearer ${mint()}`);
    expect(res.body.data).toEqual({ me: 'test-user', secret: 'for test-client' });
    const events = recorder.take();
    expect(events.sort((a, b) => Number(a.cached) - Number(b.cached))).toEqual([
      accepted('graphql', false),
      accepted('graphql', true),
    ]);
  });

  it('no token, an expired token, a missing scope: the refusals with context graphql', async () => {
    await postGraphQL(gql.url, '{ me }');
    await postGraphQL(gql.url, '{ me }', `Bearer ${mint({ expiresIn: -60 })}`);
    await postGraphQL(gql.url, '{ posts { id } }', `Bearer ${mint({ scope: 'write:posts' })}`);
    expect(recorder.take()).toEqual([
      refused('graphql', 'no_token', 401),
      refused('graphql', 'expired', 401),
      accepted('graphql', false),
      refused('graphql', 'insufficient_scope', 403),
    ]);
  });

  it("a subscription's connection_init: auth.accepted or auth.refused with context graphql", async () => {
    const graphql = gql.app.get(VoxKeyGraphQL);
    const payload = { authorization: `Bearer ${mint()}` };
    expect(await graphql.mercuriusOnConnect({ payload })).toBe(true);
    expect(await graphql.mercuriusOnConnect({ payload })).toBe(true);
    expect(await graphql.mercuriusOnConnect({ payload: {} })).toBe(false);
    expect(recorder.take()).toEqual([
      accepted('graphql', false),
      accepted('graphql', true),
      refused('graphql', 'no_token', 401),
    ]);
  });

  it('a public query publishes nothing', async () => {
    expect((await postGraphQL(gql.url, '{ hello }')).body.data).toEqual({ hello: 'world' });
    expect(recorder.take()).toEqual([]);
  });

  it('no event holds token text', () => {
    expectNoTokenText(recorder.all, tokens);
  });
});

@WebSocketGateway()
class EventsGateway {
  @SubscribeMessage('secret') secret() {
    return 'secret';
  }

  @Scopes('read:posts') @SubscribeMessage('posts') posts() {
    return ['post'];
  }
}

/** A namespace whose sockets are verified at the handshake. */
@WebSocketGateway({ namespace: 'guarded' })
class HandshakeGateway implements OnGatewayInit {
  constructor(private readonly sockets: VoxKeySockets) {}

  afterInit(namespace: Namespace): void {
    namespace.use(this.sockets.ioMiddleware());
  }

  @SubscribeMessage('secret') secret() {
    return 'secret';
  }
}

@Module({ providers: [EventsGateway, HandshakeGateway] })
class GatewaysModule {}

describe('events of a socket.io gateway', () => {
  const recorder = new EventRecorder();
  const tokens: string[] = [];
  const sockets: Socket[] = [];
  let realm: VoxKeyTestRealm;
  let app: INestApplication;
  let url: string;
  const mint = (...args: Parameters<VoxKeyTestRealm['mint']>) => {
    const token = realm.mint(...args);
    tokens.push(token);
    return token;
  };
  const open = (path: string, token?: string) => {
    const socket = io(url + path, {
      reconnection: false,
      forceNew: true,
      transports: ['websocket'],
      ...(token === undefined ? {} : { auth: { token } }),
    });
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
    app = await createApp(
      'express',
      [
        VoxKeyModule.forRoot(realm.moduleOptions({ prewarm: 'off', jwks: { cooldownMs: 0 } })),
        GatewaysModule,
      ],
      [],
    );
    url = await app.getUrl();
    recorder.start(app.get(VoxKeyEvents));
  });
  afterAll(async () => {
    recorder.stop();
    for (const socket of sockets) socket.disconnect();
    await app?.close();
    await realm?.close();
  });

  it('a handshake accepted and handshakes refused: context ws', async () => {
    await nextEvent(open('/guarded', mint()), 'connect');
    expect(recorder.take()).toEqual([fetched('unknown_kid'), accepted('ws', false)]);
    await nextEvent(open('/guarded', mint({ expiresIn: -60 })), 'connect_error');
    await nextEvent(open('/guarded'), 'connect_error');
    expect(recorder.take()).toEqual([
      refused('ws', 'expired', 401),
      refused('ws', 'no_token', 401),
    ]);
  });

  it("a socket's messages: the first verifies, the next reuse it; a missing scope is refused", async () => {
    const socket = open('/', mint({ scope: 'write:posts' }));
    await nextEvent(socket, 'connect');
    expect(recorder.take()).toEqual([]);
    expect(await socket.timeout(3000).emitWithAck('secret', {})).toBe('secret');
    expect(await socket.timeout(3000).emitWithAck('secret', {})).toBe('secret');
    const exception = nextEvent<{ statusCode: number }>(socket, 'exception');
    socket.emit('posts', {});
    expect((await exception).statusCode).toBe(403);
    expect(recorder.take()).toEqual([
      accepted('ws', false),
      accepted('ws', true),
      accepted('ws', true),
      refused('ws', 'insufficient_scope', 403),
    ]);
  });

  it('no event holds token text', () => {
    expectNoTokenText(recorder.all, tokens);
  });
});

describe('events of a TCP microservice', () => {
  const recorder = new EventRecorder();
  const tokens: string[] = [];
  let realm: VoxKeyTestRealm;
  let app: INestMicroservice;
  let client: ClientProxy;
  let authorization: string | undefined;
  const as = (token: string | undefined) => {
    if (token !== undefined) tokens.push(token);
    authorization = token === undefined ? undefined : `Bearer ${token}`;
  };

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
    const port = await freePort();
    const moduleRef = await Test.createTestingModule({
      imports: [
        VoxKeyModule.forRoot(realm.moduleOptions({ prewarm: 'off', jwks: { cooldownMs: 0 } })),
      ],
      controllers: [RpcPostsController],
    }).compile();
    app = moduleRef.createNestMicroservice<MicroserviceOptions>({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await app.listen();
    client = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
    } as TcpClientOptions);
    sendAuthorization(client, () => authorization);
    recorder.start(app.get(VoxKeyEvents));
  });
  afterAll(async () => {
    recorder.stop();
    await client?.close();
    await app?.close();
    await realm?.close();
  });

  it('accepted, cached, refused and scoped message patterns: context rpc', async () => {
    as(undefined);
    expect(await reply(client, 'open')).toEqual({ value: 'open' });
    expect(recorder.take()).toEqual([]);
    as(realm.mint({ scope: 'read:posts' }));
    expect(await reply(client, 'guarded')).toEqual({ value: 'guarded' });
    expect(await reply(client, 'posts')).toEqual({ value: ['a post'] });
    as(undefined);
    await reply(client, 'guarded');
    as(realm.mint({ expiresIn: -60 }));
    await reply(client, 'guarded');
    as(realm.mint({ scope: 'write:posts' }));
    await reply(client, 'posts');
    expect(recorder.take()).toEqual([
      fetched('unknown_kid'),
      accepted('rpc', false),
      accepted('rpc', true),
      refused('rpc', 'no_token', 401),
      refused('rpc', 'expired', 401),
      accepted('rpc', false),
      refused('rpc', 'insufficient_scope', 403),
    ]);
    expectNoTokenText(recorder.all, tokens);
  });
});

describe('realm requests against oidc-provider', () => {
  const recorder = new EventRecorder();
  const tokens: string[] = [];
  let realm: OidcRealm;
  let app: INestApplication;
  const get = (path: string, token: string) =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
  const issue = async (options?: Parameters<OidcRealm['issueToken']>[0]) => {
    const token = await realm.issueToken(options);
    tokens.push(token);
    return token;
  };
  const realmRequest = (endpoint: string, outcome = 'ok') => ({
    type: 'realm.request',
    realm: REALM,
    endpoint,
    outcome,
  });

  beforeAll(async () => {
    realm = await OidcRealm.start();
    app = await createApp(
      'express',
      [
        VoxKeyModule.forRoot(
          realm.moduleOptions({
            prewarm: 'off',
            requestTimeoutMs: 1_000,
            introspection: { cacheTtlMs: 60_000 },
            m2m: { ...M2M_CLIENT, resource: JWT_RESOURCE, maxRetries: 1 },
          }) as VoxKeyModuleOptions,
        ),
      ],
      [EventRoutes],
    );
    recorder.start(app.get(VoxKeyEvents));
  });
  afterEach(() => realm.reset());
  afterAll(async () => {
    recorder.stop();
    await app?.close();
    await realm?.close();
  });

  it('M2M: one token request; a cached token is no realm request', async () => {
    const m2m = app.get(M2MTokenService);
    tokens.push(await m2m.getToken({ scope: 'read:posts' }));
    tokens.push(await m2m.getToken({ scope: 'read:posts' }));
    expect(recorder.take()).toEqual([realmRequest('token')]);
    expect(realm.counts.token).toBe(1);
  });

  it("M2M refused by the realm: the realm's error code; a retried failure is one event per attempt", async () => {
    const m2m = app.get(M2MTokenService);
    realm.intercept.token = (_req, res) => (json(res, 401, { error: 'invalid_client' }), true);
    await expect(m2m.getToken({ forceRefresh: true })).rejects.toMatchObject({
      error: 'invalid_client',
    });
    expect(recorder.take()).toEqual([realmRequest('token', 'invalid_client')]);
    realm.intercept.token = (_req, res) => (
      json(res, 503, { error: 'temporarily_unavailable' }),
      true
    );
    await expect(m2m.getToken({ forceRefresh: true })).rejects.toMatchObject({
      error: 'temporarily_unavailable',
    });
    expect(recorder.take()).toEqual([
      realmRequest('token', 'temporarily_unavailable'),
      realmRequest('token', 'temporarily_unavailable'),
    ]);
  });

  it('@RequireActiveToken: an introspection request; the cached answer is none', async () => {
    const token = await issue();
    expect((await get('/live', token)).status).toBe(200);
    expect(recorder.take()).toEqual([
      fetched('unknown_kid'),
      realmRequest('introspection'),
      accepted('http', false),
    ]);
    expect((await get('/live', token)).status).toBe(200);
    expect(recorder.take()).toEqual([accepted('http', true)]);
  });

  it('a token the realm revoked: the introspection answer makes it inactive', async () => {
    const token = await issue();
    await realm.revoke(token);
    expect((await get('/live', token)).status).toBe(401);
    expect(recorder.take()).toEqual([
      realmRequest('introspection'),
      refused('http', 'inactive', 401),
    ]);
  });

  it('the introspection endpoint failing: its error code, and unavailable', async () => {
    const token = await issue();
    realm.intercept.introspect = (_req, res) => (
      json(res, 503, { error: 'temporarily_unavailable' }),
      true
    );
    expect((await get('/live', token)).status).toBe(503);
    expect(recorder.take()).toEqual([
      realmRequest('introspection', 'temporarily_unavailable'),
      refused('http', 'unavailable', 503),
    ]);
  });

  it('RevocationService: a revocation request, then the token is refused as revoked', async () => {
    const token = await issue();
    expect((await get('/posts', token)).status).toBe(200);
    await app.get(RevocationService).revoke(token);
    expect((await get('/posts', token)).status).toBe(401);
    expect(recorder.take()).toEqual([
      accepted('http', false),
      realmRequest('revocation'),
      refused('http', 'revoked', 401),
    ]);
  });

  it('no event holds token text or a client secret', () => {
    expect(payloadOf(tokens[0]).client_id).toBe(M2M_CLIENT.clientId);
    expectNoTokenText(recorder.all, tokens, [
      realm.apiClient.clientSecret,
      realm.m2mClient.clientSecret,
    ]);
  });

  it('with nobody listening, realm requests publish nothing', async () => {
    recorder.stop();
    expect(anyoneListening()).toBe(false);
    published.mockClear();
    const before = realm.counts.token + realm.counts.introspect + realm.counts.revoke;
    const token = await issue();
    await app.get(M2MTokenService).getToken({ forceRefresh: true });
    expect((await get('/live', token)).status).toBe(200);
    await app.get(RevocationService).revoke(token);
    expect(realm.counts.token + realm.counts.introspect + realm.counts.revoke - before).toBe(3);
    expect(published).not.toHaveBeenCalled();
  });
});

describe('events of the pre-warm', () => {
  it("a blocking pre-warm publishes one jwks.fetch with trigger 'prewarm', and the first call fetches nothing", async () => {
    const realm = await VoxKeyTestRealm.start();
    const fetches: unknown[] = [];
    const listener = (event: unknown) => fetches.push(event);
    subscribe(VOXKEY_CHANNELS.jwks, listener);
    let app: INestApplication | undefined;
    try {
      app = await createApp(
        'express',
        [VoxKeyModule.forRoot(realm.moduleOptions({ prewarm: 'block' }))],
        [EventRoutes],
      );
      expect(fetches).toEqual([
        {
          type: 'jwks.fetch',
          realm: 'default',
          trigger: 'prewarm',
          outcome: 'ok',
          keys: 1,
          durationMs: expect.any(Number),
        },
      ]);
      const token = realm.mint();
      expect(
        (await request(app.getHttpServer()).get('/open').set('Authorization', `Bearer ${token}`))
          .status,
      ).toBe(200);
      expect(fetches).toHaveLength(1);
      expect(realm.jwksRequests).toBe(1);
    } finally {
      unsubscribe(VOXKEY_CHANNELS.jwks, listener);
      await app?.close();
      await realm.close();
    }
  });
});
