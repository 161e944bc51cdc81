import { ImATeapotException, type INestApplication, type Provider } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import passport from 'passport';
import type { Namespace, Server, Socket as ServerSocket } from 'socket.io';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  BearerToken,
  Public,
  Resource,
  Scopes,
  VoxKeyAuthGuard,
  type VoxKeyClaims,
  VoxKeyModule,
  type VoxKeyModuleOptions,
  VoxKeySockets,
  VoxKeyUser,
} from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { CaptureLogger } from '../support/capture-logger';
import { createGatewayApp, nextEvent, waitUntil } from '../support/ws-app';

/** Counts of handler runs, to show that a refused message never reaches its handler. */
const runs = {
  public: 0,
  protected: 0,
  scoped: 0,
  me: 0,
  connections: 0,
  guardedConnections: 0,
};

@WebSocketGateway()
class PostsGateway implements OnGatewayConnection {
  @WebSocketServer() server!: Server;

  handleConnection(): void {
    runs.connections++;
  }

  @Public()
  @SubscribeMessage('ping')
  ping(): string {
    runs.public++;
    return 'pong';
  }

  @SubscribeMessage('secret')
  secret(@MessageBody() data: unknown): { ok: true; data: unknown } {
    runs.protected++;
    return { ok: true, data };
  }

  @Scopes('read:posts')
  @SubscribeMessage('posts')
  posts(): string[] {
    runs.scoped++;
    return ['hello'];
  }

  /** Whether @BearerToken() gives the socket's token (never sent back). */
  @SubscribeMessage('token')
  token(
    @BearerToken() token: string | undefined,
    @ConnectedSocket() client: ServerSocket,
  ): boolean {
    return token !== undefined && token === client.handshake.auth.token;
  }

  @SubscribeMessage('me')
  me(@VoxKeyUser() user: VoxKeyClaims): VoxKeyClaims {
    runs.me++;
    return user;
  }
}

/** A namespace whose sockets are verified when they connect, by the library's middleware. */
@WebSocketGateway({ namespace: 'guarded' })
class GuardedGateway implements OnGatewayInit, OnGatewayConnection {
  /** The subject of each accepted socket, as handleConnection sees it. */
  readonly subjects: (string | undefined)[] = [];

  constructor(private readonly sockets: VoxKeySockets) {}

  afterInit(namespace: Namespace): void {
    namespace.use(this.sockets.ioMiddleware());
  }

  handleConnection(client: ServerSocket): void {
    runs.guardedConnections++;
    this.subjects.push(this.sockets.user(client)?.sub);
  }

  @SubscribeMessage('me')
  me(@VoxKeyUser('sub') sub: string, @ConnectedSocket() client: ServerSocket): string {
    return `${sub} ${client.nsp.name}`;
  }
}

const MCP = 'https://api.example.com/mcp';
const TOOLS = 'https://api.example.com/tools';

/** A namespace under a protected resource, its middleware given the gateway itself. */
@Resource(MCP)
@WebSocketGateway({ namespace: 'mcp' })
class McpGateway implements OnGatewayInit {
  constructor(private readonly sockets: VoxKeySockets) {}

  afterInit(namespace: Namespace): void {
    namespace.use(this.sockets.ioMiddleware(this));
  }

  @SubscribeMessage('me')
  me(@VoxKeyUser('sub') sub: string): string {
    return sub;
  }
}

/** Another resource's namespace, its middleware given the gateway's class. */
@Resource(TOOLS)
@WebSocketGateway({ namespace: 'tools' })
class ToolsGateway implements OnGatewayInit {
  constructor(private readonly sockets: VoxKeySockets) {}

  afterInit(namespace: Namespace): void {
    namespace.use(this.sockets.ioMiddleware(ToolsGateway));
  }

  @SubscribeMessage('me')
  me(@VoxKeyUser('sub') sub: string): string {
    return sub;
  }
}

type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** A started realm and app, and socket.io clients on it that are all closed in afterAll. */
function scenario(options: Partial<VoxKeyModuleOptions> = {}) {
  const ctx = {} as {
    realm: VoxKeyTestRealm;
    app: INestApplication;
    url: string;
    logger: CaptureLogger;
  };
  const sockets: Socket[] = [];
  beforeAll(async () => {
    ctx.realm = await VoxKeyTestRealm.start();
    ctx.logger = new CaptureLogger();
    const started = await createGatewayApp(
      [VoxKeyModule.forRoot(ctx.realm.moduleOptions({ clockTolerance: 0, ...options }))],
      [PostsGateway, GuardedGateway],
      { logger: ctx.logger },
    );
    ctx.app = started.app;
    ctx.app.useLogger(ctx.logger);
    ctx.url = `http://127.0.0.1:${started.port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await ctx.app?.close();
    await ctx.realm?.close();
  });
  /** A connected client of the default namespace. */
  const connect = async (clientOptions: ClientOptions = {}, path = '/'): Promise<Socket> => {
    const socket = io(ctx.url + path, { reconnection: false, forceNew: true, ...clientOptions });
    sockets.push(socket);
    await nextEvent(socket, 'connect');
    return socket;
  };
  return { ctx, connect, sockets };
}

/** What one message got: its ack, or the `exception` event, and whether the ack was called. */
async function send(
  socket: Socket,
  event: string,
  data: unknown = { hello: 'world' },
): Promise<{ ack?: unknown; exception?: Record<string, unknown>; acked: () => boolean }> {
  let acked = false;
  let onException = (_exception: Record<string, unknown>): void => undefined;
  const answer = new Promise<{ ack?: unknown; exception?: Record<string, unknown> }>(
    (resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to '${event}'`)), 3000);
      onException = (exception: Record<string, unknown>) => {
        clearTimeout(timer);
        resolve({ exception });
      };
      socket.once('exception', onException);
      socket.emit(event, data, (ack: unknown) => {
        acked = true;
        clearTimeout(timer);
        resolve({ ack });
      });
    },
  );
  const result = await answer;
  socket.off('exception', onException);
  // A later message answered proves the refused one will never be acknowledged.
  if (result.exception) await socket.timeout(3000).emitWithAck('ping');
  return { ...result, acked: () => acked };
}

const NO_TOKEN = {
  status: 'error',
  statusCode: 401,
  error: 'No token',
  message: expect.any(String),
};

describe('socket.io gateway, with the module global guards only', () => {
  const { ctx, connect } = scenario();

  beforeEach(() => Object.keys(runs).forEach((key) => (runs[key as keyof typeof runs] = 0)));

  it('answers a public message without a token', async () => {
    const socket = await connect();
    expect(await socket.timeout(3000).emitWithAck('ping')).toBe('pong');
    expect(runs.public).toBe(1);
  });

  it('refuses a message without a token: the exact exception event, no ack, no handler run', async () => {
    const socket = await connect();
    const result = await send(socket, 'secret', { echo: 'client data' });
    expect(result.exception).toStrictEqual(NO_TOKEN);
    expect(JSON.stringify(result.exception)).not.toContain('client data');
    expect(result.exception).not.toHaveProperty('cause');
    expect(result.acked()).toBe(false);
    expect(runs.protected).toBe(0);
    expect(socket.connected).toBe(true);
  });

  it('refuses a scoped message and @VoxKeyUser() handler without a token', async () => {
    const socket = await connect();
    expect((await send(socket, 'posts')).exception).toStrictEqual(NO_TOKEN);
    expect((await send(socket, 'me')).exception).toStrictEqual(NO_TOKEN);
    expect(runs.scoped + runs.me).toBe(0);
  });

  it.each([
    ['an invalid token', (realm: VoxKeyTestRealm) => `${realm.mint()}x`],
    ['an expired token', (realm: VoxKeyTestRealm) => realm.mint({ expiresIn: -10 })],
    [
      'a token of another audience',
      (realm: VoxKeyTestRealm) => realm.mint({ claims: { aud: 'https://other.example' } }),
    ],
  ])('refuses %s with 401 invalid_token', async (_name, mint) => {
    const token = mint(ctx.realm);
    const socket = await connect({ auth: { token } });
    const { exception, acked } = await send(socket, 'secret');
    expect(exception).toStrictEqual({
      status: 'error',
      statusCode: 401,
      error: 'Invalid token',
      code: 'invalid_token',
      message: expect.any(String),
    });
    expect(JSON.stringify(exception)).not.toContain(token);
    expect(acked()).toBe(false);
    expect(runs.protected).toBe(0);
  });

  it('accepts auth.token raw and as "Bearer …"', async () => {
    const raw = await connect({ auth: { token: ctx.realm.mint() } });
    expect((await send(raw, 'secret', 1)).ack).toEqual({ ok: true, data: 1 });
    const bearer = await connect({ auth: { token: `Bearer ${ctx.realm.mint()}` } });
    expect((await send(bearer, 'secret', 2)).ack).toEqual({ ok: true, data: 2 });
    expect(runs.protected).toBe(2);
  });

  it('accepts the handshake Authorization header (extraHeaders)', async () => {
    const socket = await connect({
      extraHeaders: { Authorization: `Bearer ${ctx.realm.mint()}` },
    });
    expect((await send(socket, 'secret', 3)).ack).toEqual({ ok: true, data: 3 });
  });

  it('takes the same token given twice as one, two different ones as 400 invalid_request', async () => {
    const token = ctx.realm.mint();
    const same = await connect({
      auth: { token },
      extraHeaders: { Authorization: `Bearer ${token}` },
    });
    expect((await send(same, 'secret')).ack).toMatchObject({ ok: true });
    const two = await connect({
      auth: { token: ctx.realm.mint() },
      extraHeaders: { Authorization: `Bearer ${ctx.realm.mint()}` },
    });
    expect((await send(two, 'secret')).exception).toStrictEqual({
      status: 'error',
      statusCode: 400,
      error: 'Invalid request',
      code: 'invalid_request',
      message: expect.any(String),
    });
    expect(runs.protected).toBe(1);
  });

  it('refuses a missing scope with 403 insufficient_scope and keeps the socket open', async () => {
    const socket = await connect({ auth: { token: ctx.realm.mint({ scope: 'write:posts' }) } });
    const { exception, acked } = await send(socket, 'posts');
    expect(exception).toStrictEqual({
      status: 'error',
      statusCode: 403,
      error: 'Insufficient scope',
      code: 'insufficient_scope',
      scope: 'read:posts',
      message: expect.any(String),
    });
    expect(acked()).toBe(false);
    expect(runs.scoped).toBe(0);
    expect(socket.connected).toBe(true);
    // The same socket still gets what its token allows.
    expect((await send(socket, 'secret')).ack).toMatchObject({ ok: true });
  });

  it('runs a scoped handler for a token with the scope', async () => {
    const socket = await connect({ auth: { token: ctx.realm.mint({ scope: 'read:posts' }) } });
    expect((await send(socket, 'posts')).ack).toEqual(['hello']);
  });

  it('gives @VoxKeyUser() the claims', async () => {
    const socket = await connect({
      auth: { token: ctx.realm.mint({ subject: 'alice', scope: 'read:posts' }) },
    });
    expect((await send(socket, 'me')).ack).toMatchObject({
      sub: 'alice',
      scope: 'read:posts',
      iss: ctx.realm.issuer,
    });
  });

  it('gives @BearerToken() the socket token', async () => {
    const socket = await connect({ auth: { token: ctx.realm.mint() } });
    expect((await send(socket, 'token')).ack).toBe(true);
  });

  it('ignores the access_token query parameter unless allowQueryToken', async () => {
    const socket = await connect({ query: { access_token: ctx.realm.mint() } });
    expect((await send(socket, 'secret')).exception).toStrictEqual(NO_TOKEN);
  });

  it('verifies a socket token once for many messages, sequential and concurrent', async () => {
    const authenticate = jest.spyOn(passport, 'authenticate');
    try {
      const socket = await connect({ auth: { token: ctx.realm.mint({ scope: 'read:posts' }) } });
      await Promise.all([1, 2, 3].map((n) => socket.timeout(3000).emitWithAck('secret', n)));
      for (const n of [4, 5, 6]) await socket.timeout(3000).emitWithAck('posts', n);
      expect(runs.protected + runs.scoped).toBe(6);
      expect(authenticate).toHaveBeenCalledTimes(1);
    } finally {
      authenticate.mockRestore();
    }
  });

  it('never logs a token', () => {
    const tokens = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;
    expect(ctx.logger.lines.filter((line) => tokens.test(line))).toEqual([]);
    expect(ctx.logger.lines.some((line) => line.includes('Rejected'))).toBe(true);
  });
});

describe('socket.io connection middleware (VoxKeySockets.ioMiddleware)', () => {
  const { ctx, connect, sockets } = scenario();

  beforeEach(() => Object.keys(runs).forEach((key) => (runs[key as keyof typeof runs] = 0)));

  /** The `connect_error` of a socket the middleware refuses. */
  const refused = async (options: ClientOptions) => {
    const socket = io(`${ctx.url}/guarded`, { reconnection: false, forceNew: true, ...options });
    sockets.push(socket);
    let connected = false;
    socket.on('connect', () => (connected = true));
    const error = await nextEvent<Error & { data?: unknown }>(socket, 'connect_error');
    return { message: error.message, data: error.data, connected: () => connected };
  };

  it.each([
    ['no token', {}, 'No token', { statusCode: 401 }],
    [
      'an invalid token',
      { auth: { token: 'not.a.jwt' } },
      'Invalid token',
      { statusCode: 401, code: 'invalid_token' },
    ],
    [
      'two different credentials',
      { auth: { token: 'a' }, extraHeaders: { Authorization: 'Bearer b' } },
      'Invalid request',
      { statusCode: 400, code: 'invalid_request' },
    ],
  ])(
    'refuses %s with connect_error, before handleConnection',
    async (_name, options, message, data) => {
      const result = await refused(options as ClientOptions);
      expect(result.message).toBe(message);
      expect(result.data).toStrictEqual(data);
      expect(result.connected()).toBe(false);
      expect(runs.guardedConnections).toBe(0);
    },
  );

  it('refuses an expired token', async () => {
    const result = await refused({ auth: { token: ctx.realm.mint({ expiresIn: -10 }) } });
    expect(result.data).toStrictEqual({ statusCode: 401, code: 'invalid_token' });
  });

  it('accepts a valid token: handleConnection sees the user, messages verify no further', async () => {
    const authenticate = jest.spyOn(passport, 'authenticate');
    try {
      const socket = await connect(
        { auth: { token: ctx.realm.mint({ subject: 'bob' }) } },
        '/guarded',
      );
      for (let n = 0; n < 3; n++) {
        expect(await socket.timeout(3000).emitWithAck('me')).toBe('bob /guarded');
      }
      expect(runs.guardedConnections).toBe(1);
      expect(ctx.app.get(GuardedGateway).subjects.at(-1)).toBe('bob');
      expect(authenticate).toHaveBeenCalledTimes(1);
    } finally {
      authenticate.mockRestore();
    }
  });

  it.each([
    ['a failure of its own', new TypeError('secret detail'), 'Internal server error', 500],
    ["a guard subclass's HttpException", new ImATeapotException(), "I'm a teapot", 418],
  ])('answers %s without its detail', async (_name, failure, message, statusCode) => {
    const failing = jest
      .spyOn(VoxKeyAuthGuard.prototype, 'authenticateConnection')
      .mockRejectedValueOnce(failure);
    try {
      const result = await refused({ auth: { token: ctx.realm.mint() } });
      expect([result.message, result.data]).toEqual([message, { statusCode }]);
      expect(runs.guardedConnections).toBe(0);
    } finally {
      failing.mockRestore();
    }
  });

  it('leaves the namespaces without the middleware alone', async () => {
    const socket = await connect();
    expect(await socket.timeout(3000).emitWithAck('ping')).toBe('pong');
    expect(runs.connections).toBe(1);
  });
});

describe('socket.io gateway with contexts.ws.allowQueryToken', () => {
  const { ctx, connect } = scenario({ contexts: { ws: { allowQueryToken: true } } });

  it('accepts the access_token query parameter', async () => {
    const socket = await connect({ query: { access_token: ctx.realm.mint() } });
    expect((await send(socket, 'secret', 7)).ack).toEqual({ ok: true, data: 7 });
  });

  it('takes a query token that differs from auth.token as 400 invalid_request', async () => {
    const socket = await connect({
      query: { access_token: ctx.realm.mint() },
      auth: { token: ctx.realm.mint() },
    });
    expect((await send(socket, 'secret')).exception).toMatchObject({ statusCode: 400 });
  });
});

/** A token's `exp`. */
function expOf(token: string): number {
  return (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number })
    .exp;
}

describe('socket.io gateway: a token that expires', () => {
  const { ctx, connect } = scenario();

  it('gets the exception event, then a server disconnect, and no broadcast after', async () => {
    const short = ctx.realm.mint({ expiresIn: 2 });
    const expiring = await connect({ auth: { token: short } });
    const other = await connect({ auth: { token: ctx.realm.mint() } });
    const events: string[] = [];
    expiring.on('news', () => events.push('news'));
    expiring.on('exception', (exception: { code?: string }) =>
      events.push(`exception ${exception.code}`),
    );
    expiring.on('disconnect', (reason) => events.push(`disconnect ${reason}`));
    // The first verified message arms the close timer.
    expect((await send(expiring, 'secret')).ack).toMatchObject({ ok: true });

    const gateway = ctx.app.get(PostsGateway);
    const otherNews = () => nextEvent(other, 'news');
    let received = otherNews();
    gateway.server.emit('news', 1);
    await received;
    await nextEvent(expiring, 'disconnect', (expOf(short) + 3) * 1000 - Date.now());
    received = otherNews();
    gateway.server.emit('news', 2);
    await received;

    expect(events).toEqual(['news', 'exception invalid_token', 'disconnect io server disconnect']);
    expect(other.connected).toBe(true);
  });
});

describe('socket.io middleware: a token that expires', () => {
  const { ctx, connect } = scenario();

  it('closes a socket accepted at connection, with no message needed', async () => {
    const short = ctx.realm.mint({ expiresIn: 2 });
    const socket = await connect({ auth: { token: short } }, '/guarded');
    const events: string[] = [];
    socket.on('exception', (exception: { code?: string }) =>
      events.push(`exception ${exception.code}`),
    );
    await nextEvent(socket, 'disconnect', (expOf(short) + 3) * 1000 - Date.now());
    expect(events).toEqual(['exception invalid_token']);
  });
});

describe('socket.io gateway: an expired token with closeOnExpiry: false', () => {
  const { ctx, connect } = scenario({ contexts: { ws: { closeOnExpiry: false } } });

  it('keeps the socket open but refuses its later messages', async () => {
    const short = ctx.realm.mint({ expiresIn: 2 });
    const socket = await connect({ auth: { token: short } });
    let disconnected = false;
    socket.on('disconnect', () => (disconnected = true));
    expect((await send(socket, 'secret')).ack).toMatchObject({ ok: true });
    await waitUntil(expOf(short) + 0.2);
    expect((await send(socket, 'secret')).exception).toStrictEqual({
      status: 'error',
      statusCode: 401,
      error: 'Invalid token',
      code: 'invalid_token',
      message: expect.any(String),
    });
    expect(disconnected).toBe(false);
    expect(socket.connected).toBe(true);
  });
});

describe('socket.io gateway while the realm key set is down', () => {
  const { ctx, connect, sockets } = scenario({ jwks: { cooldownMs: 0 } });

  it('answers 503 Service Unavailable, per message and at connection, never 401', async () => {
    const warm = await connect({ auth: { token: ctx.realm.mint() } });
    expect((await send(warm, 'secret')).ack).toMatchObject({ ok: true });
    ctx.realm.jwksAvailable = false;
    const token = ctx.realm.mint({ header: { kid: 'not-yet-fetched' } });
    const socket = await connect({ auth: { token } });
    expect((await send(socket, 'secret')).exception).toStrictEqual({
      status: 'error',
      statusCode: 503,
      error: 'Service Unavailable',
      message: expect.any(String),
    });
    const guarded = io(`${ctx.url}/guarded`, {
      reconnection: false,
      forceNew: true,
      auth: { token },
    });
    sockets.push(guarded);
    const error = await nextEvent<Error & { data?: unknown }>(guarded, 'connect_error');
    expect([error.message, error.data]).toEqual(['Service Unavailable', { statusCode: 503 }]);
  });
});

describe('socket.io connection middleware under protected resources', () => {
  /** A started app with `options`, and a client that connects to a namespace or is refused. */
  function resourceScenario(
    audience: string[],
    options: Partial<VoxKeyModuleOptions>,
    gateways: Provider[],
  ) {
    const ctx = {} as { realm: VoxKeyTestRealm; app: INestApplication; url: string };
    const sockets: Socket[] = [];
    beforeAll(async () => {
      ctx.realm = await VoxKeyTestRealm.start({ audience });
      const started = await createGatewayApp(
        [VoxKeyModule.forRoot(ctx.realm.moduleOptions({ audience: undefined, ...options }))],
        gateways,
        { logger: new CaptureLogger() },
      );
      ctx.app = started.app;
      ctx.url = `http://127.0.0.1:${started.port}`;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.disconnect();
      await ctx.app?.close();
      await ctx.realm?.close();
    });
    /** 'connected' with the `me` answer, or the `connect_error`'s message and data. */
    const attempt = async (namespace: string, aud: string | string[]) => {
      const socket = io(`${ctx.url}/${namespace}`, {
        reconnection: false,
        forceNew: true,
        auth: { token: ctx.realm.mint({ subject: 'ann', claims: { aud } }) },
      });
      sockets.push(socket);
      const outcome = await Promise.race([
        nextEvent(socket, 'connect').then(() => 'connected' as const),
        nextEvent<Error & { data?: unknown }>(socket, 'connect_error'),
      ]);
      if (outcome !== 'connected') return { error: outcome.message, data: outcome.data };
      return { me: (await socket.timeout(3000).emitWithAck('me')) as unknown };
    };
    return { attempt };
  }

  describe("several resources: the gateway's @Resource()", () => {
    const { attempt } = resourceScenario(
      [MCP, TOOLS],
      { resources: [{ resource: MCP }, { resource: TOOLS }] },
      [McpGateway, ToolsGateway, GuardedGateway],
    );
    const refusedAudience = {
      error: 'Invalid token',
      data: { statusCode: 401, code: 'invalid_token' },
    };

    it("refuses at the handshake a token of the realm's other resource (middleware given the gateway)", async () => {
      expect(await attempt('mcp', TOOLS)).toStrictEqual(refusedAudience);
      expect(await attempt('mcp', MCP)).toStrictEqual({ me: 'ann' });
      expect(await attempt('mcp', [TOOLS, MCP])).toStrictEqual({ me: 'ann' });
    });

    it('does the same with the middleware given the gateway class', async () => {
      expect(await attempt('tools', MCP)).toStrictEqual(refusedAudience);
      expect(await attempt('tools', TOOLS)).toStrictEqual({ me: 'ann' });
    });

    it('checks no resource for a gateway without @Resource(), as for a route without it', async () => {
      expect(await attempt('guarded', MCP)).toStrictEqual({ me: 'ann /guarded' });
      expect(await attempt('guarded', TOOLS)).toStrictEqual({ me: 'ann /guarded' });
    });
  });

  describe('a single resource: every gateway is under it', () => {
    const OTHER = 'https://other.example.com';
    const { attempt } = resourceScenario([MCP, OTHER], { audience: [MCP, OTHER], resource: MCP }, [
      McpGateway,
      GuardedGateway,
    ]);

    it('refuses at the handshake a token the realm accepts but not for the resource', async () => {
      const refused = { error: 'Invalid token', data: { statusCode: 401, code: 'invalid_token' } };
      expect(await attempt('guarded', OTHER)).toStrictEqual(refused);
      expect(await attempt('guarded', MCP)).toStrictEqual({ me: 'ann /guarded' });
      expect(await attempt('mcp', OTHER)).toStrictEqual(refused);
    });
  });
});
