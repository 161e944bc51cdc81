import type { IncomingMessage } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import {
  MessageBody,
  type OnGatewayConnection,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import passport from 'passport';
import type WebSocket from 'ws';
import {
  attachVoxKeyHandshake,
  Public,
  VoxKeyAuthGuard,
  Scopes,
  VoxKeyModule,
  type VoxKeyModuleOptions,
  VoxKeyUser,
} from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { VoxKeyWsAdapter, type VoxKeyWsAdapterOptions } from '../../lib/ws/index';
import { CaptureLogger } from '../support/capture-logger';
import { createGatewayApp } from '../support/ws-app';
import { openRaw, type RawClient, type Upgrade } from '../support/ws-raw';
import { SUPPORTED_ALGORITHMS } from '../../lib/voxkey.constants';

const runs = { connections: 0, secret: 0 };

@WebSocketGateway({ path: '/ws' })
class RawGateway implements OnGatewayConnection {
  handleConnection(): void {
    runs.connections++;
  }

  @Public()
  @SubscribeMessage('ping')
  ping() {
    return { event: 'pong', data: null };
  }

  @SubscribeMessage('secret')
  secret(@MessageBody() data: unknown, @VoxKeyUser('sub') sub: string) {
    runs.secret++;
    return { event: 'secret', data: { sub, data } };
  }

  @Scopes('read:posts')
  @SubscribeMessage('posts')
  posts() {
    return { event: 'posts', data: ['hello'] };
  }
}

/** A gateway that hands its sockets their upgrade request itself. */
@WebSocketGateway({ path: '/attached' })
class AttachingGateway implements OnGatewayConnection {
  handleConnection(client: WebSocket, request: IncomingMessage): void {
    attachVoxKeyHandshake(client, request);
  }

  @SubscribeMessage('secret')
  secret(@VoxKeyUser('sub') sub: string) {
    return { event: 'secret', data: sub };
  }
}

/** A gateway with its own upgrade check, which runs after the token's. */
@WebSocketGateway({
  path: '/picky',
  verifyClient: (
    info: { req: IncomingMessage },
    callback: (verified: boolean, code?: number, message?: string) => void,
  ) => (info.req.headers['x-tea'] === 'yes' ? callback(true) : callback(false, 418, 'No tea')),
})
class PickyGateway {
  @SubscribeMessage('secret')
  secret(@VoxKeyUser('sub') sub: string) {
    return { event: 'secret', data: sub };
  }
}

/** A gateway with a synchronous upgrade check of its own. */
@WebSocketGateway({
  path: '/sync',
  verifyClient: (info: { req: IncomingMessage }) => info.req.headers['x-tea'] === 'yes',
})
class SyncCheckGateway {
  @SubscribeMessage('secret')
  secret(@VoxKeyUser('sub') sub: string) {
    return { event: 'secret', data: sub };
  }
}

function scenario(
  adapter: 'ws' | 'default' | VoxKeyWsAdapterOptions,
  options: Partial<VoxKeyModuleOptions> = {},
) {
  const ctx = {} as {
    realm: VoxKeyTestRealm;
    app: INestApplication;
    base: string;
    logger: CaptureLogger;
  };
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    ctx.realm = await VoxKeyTestRealm.start();
    ctx.logger = new CaptureLogger();
    const started = await createGatewayApp(
      [VoxKeyModule.forRoot(ctx.realm.moduleOptions({ clockTolerance: 0, ...options }))],
      [RawGateway, AttachingGateway, PickyGateway, SyncCheckGateway],
      {
        adapter: (app) =>
          adapter === 'ws'
            ? new WsAdapter(app)
            : adapter === 'default'
              ? new VoxKeyWsAdapter(app)
              : new VoxKeyWsAdapter(app, adapter),
        logger: ctx.logger,
      },
    );
    ctx.app = started.app;
    ctx.app.useLogger(ctx.logger);
    ctx.base = `ws://127.0.0.1:${started.port}`;
  });
  beforeEach(() => Object.keys(runs).forEach((key) => (runs[key as keyof typeof runs] = 0)));
  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await ctx.app?.close();
    await ctx.realm?.close();
  });
  const upgrade = (headers: Record<string, string> = {}, path = '/ws'): Promise<Upgrade> =>
    openRaw(ctx.base + path, headers, sockets);
  const open = async (headers: Record<string, string> = {}, path = '/ws'): Promise<RawClient> => {
    const result = await upgrade(headers, path);
    if (result.kind !== 'open') throw new Error(`upgrade refused with ${result.status}`);
    return result.client;
  };
  return { ctx, upgrade, open };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

const NO_TOKEN = {
  event: 'exception',
  data: { status: 'error', statusCode: 401, error: 'No token', message: expect.any(String) },
};

describe("a 'ws' gateway with Nest's WsAdapter", () => {
  const { ctx, open } = scenario('ws');

  it('refuses every guarded message as "No token", with a debug hint naming the fix', async () => {
    const client = await open(bearer(ctx.realm.mint()));
    expect(await client.call('secret', 1)).toStrictEqual(NO_TOKEN);
    expect(runs.secret).toBe(0);
    expect(await client.call('ping')).toEqual({ event: 'pong', data: null });
    expect(ctx.logger.lines.filter((line) => line.includes('VoxKeyWsAdapter'))).toHaveLength(1);
  });

  it('reads the header once handleConnection calls attachVoxKeyHandshake', async () => {
    const client = await open(bearer(ctx.realm.mint({ subject: 'carol' })), '/attached');
    expect(await client.call('secret')).toEqual({ event: 'secret', data: 'carol' });
  });
});

describe("a 'ws' gateway with VoxKeyWsAdapter", () => {
  const { ctx, upgrade, open } = scenario('default');

  it('accepts the upgrade Authorization header: messages run, verified once per socket', async () => {
    const authenticate = jest.spyOn(passport, 'authenticate');
    try {
      const client = await open(bearer(ctx.realm.mint({ subject: 'dave' })));
      for (const n of [1, 2, 3]) {
        expect(await client.call('secret', n)).toEqual({
          event: 'secret',
          data: { sub: 'dave', data: n },
        });
      }
      expect(authenticate).toHaveBeenCalledTimes(1);
      expect(runs).toEqual({ connections: 1, secret: 3 });
    } finally {
      authenticate.mockRestore();
    }
  });

  it.each([
    ['no token', {}, 401, /^Bearer realm="[^"]+"$/],
    ['another scheme', { Authorization: 'Basic dXNlcjpwYXNz' }, 401, /^Bearer realm="[^"]+"$/],
    ['an invalid token', bearer('not.a.jwt'), 401, /error="invalid_token"/],
    ['junk after the token', { Authorization: 'Bearer a b' }, 400, /error="invalid_request"/],
  ])(
    'refuses the upgrade with %s (its HTTP status and challenge) before the socket exists',
    async (_name, headers, status, challenge) => {
      const result = await upgrade(headers);
      expect(result).toMatchObject({ kind: 'refused', status });
      if (result.kind !== 'refused') return;
      expect(result.headers['www-authenticate']).toMatch(challenge);
      expect(runs.connections).toBe(0);
    },
  );

  it('refuses an expired token at the upgrade', async () => {
    const result = await upgrade(bearer(ctx.realm.mint({ expiresIn: -10 })));
    expect(result).toMatchObject({ kind: 'refused', status: 401 });
  });

  it('answers a missing scope with a 403 exception frame and keeps the socket open', async () => {
    const client = await open(bearer(ctx.realm.mint({ scope: 'write:posts' })));
    expect(await client.call('posts')).toStrictEqual({
      event: 'exception',
      data: {
        status: 'error',
        statusCode: 403,
        error: 'Insufficient scope',
        code: 'insufficient_scope',
        scope: 'read:posts',
        message: expect.any(String),
      },
    });
    expect(await client.call('ping')).toEqual({ event: 'pong', data: null });
  });

  it('closes a socket with 4401 when its token expires, with no message needed', async () => {
    const client = await open(bearer(ctx.realm.mint({ expiresIn: 2 })));
    expect(await client.closed(4000)).toBe(4401);
    expect(client.frames).toEqual([]);
  });

  it("keeps a gateway's own verifyClient, after the token check", async () => {
    expect(await upgrade({}, '/picky')).toMatchObject({ kind: 'refused', status: 401 });
    const token = ctx.realm.mint({ subject: 'erin' });
    expect(await upgrade(bearer(token), '/picky')).toMatchObject({ kind: 'refused', status: 418 });
    const client = await open({ ...bearer(token), 'x-tea': 'yes' }, '/picky');
    expect(await client.call('secret')).toEqual({ event: 'secret', data: 'erin' });
  });

  it("keeps a gateway's own synchronous verifyClient too", async () => {
    const token = ctx.realm.mint({ subject: 'frank' });
    expect(await upgrade(bearer(token), '/sync')).toMatchObject({ kind: 'refused', status: 401 });
    const client = await open({ ...bearer(token), 'x-tea': 'yes' }, '/sync');
    expect(await client.call('secret')).toEqual({ event: 'secret', data: 'frank' });
  });

  it('ignores the access_token query parameter unless allowQueryToken', async () => {
    const result = await upgrade({}, `/ws?access_token=${ctx.realm.mint()}`);
    expect(result).toMatchObject({ kind: 'refused', status: 401 });
  });

  it('answers an unexpected failure of the check with a bare 500, logged without detail', async () => {
    const failing = jest
      .spyOn(VoxKeyAuthGuard.prototype, 'authenticateConnection')
      .mockRejectedValueOnce(new TypeError(`secret detail ${ctx.realm.mint()}`));
    try {
      const result = await upgrade(bearer(ctx.realm.mint()));
      expect(result).toMatchObject({ kind: 'refused', status: 500 });
      if (result.kind === 'refused') expect(result.body).not.toContain('secret detail');
      expect(ctx.logger.lines).toContainEqual(
        expect.stringMatching(/^error Upgrade not authenticated: TypeError/),
      );
      expect(runs.connections).toBe(0);
    } finally {
      failing.mockRestore();
    }
  });

  it('never logs a token', () => {
    expect(ctx.logger.lines.filter((line) => /eyJ[\w-]+\.[\w-]+\./.test(line))).toEqual([]);
  });
});

describe('VoxKeyWsAdapter with contexts.ws.allowQueryToken', () => {
  const { ctx, upgrade, open } = scenario({}, { contexts: { ws: { allowQueryToken: true } } });

  it('accepts the access_token query parameter', async () => {
    const client = await open({}, `/ws?access_token=${ctx.realm.mint({ subject: 'gail' })}`);
    expect(await client.call('secret', 1)).toEqual({
      event: 'secret',
      data: { sub: 'gail', data: 1 },
    });
  });

  it('takes two access_token parameters, or one besides a different header, as 400', async () => {
    const a = ctx.realm.mint();
    const b = ctx.realm.mint();
    expect(await upgrade({}, `/ws?access_token=${a}&access_token=${a}`)).toMatchObject({
      kind: 'refused',
      status: 400,
    });
    expect(await upgrade(bearer(b), `/ws?access_token=${a}`)).toMatchObject({
      kind: 'refused',
      status: 400,
    });
    expect(runs.connections).toBe(0);
  });
});

describe('VoxKeyWsAdapter while the realm key set is down', () => {
  const { ctx, upgrade, open } = scenario({}, { jwks: { cooldownMs: 0 } });

  it('answers an upgrade whose key cannot be fetched with 503 and Retry-After, never 401', async () => {
    await open(bearer(ctx.realm.mint()));
    ctx.realm.jwksAvailable = false;
    const result = await upgrade(bearer(ctx.realm.mint({ header: { kid: 'not-yet-fetched' } })));
    expect(result).toMatchObject({ kind: 'refused', status: 503 });
    if (result.kind === 'refused') expect(result.headers['retry-after']).toMatch(/^\d+$/);
    expect(runs.connections).toBe(1);
  });
});

describe('VoxKeyWsAdapter with a single protected resource', () => {
  const MCP = 'https://api.example.com/mcp';
  const METADATA = 'https://api.example.com/.well-known/oauth-protected-resource/mcp';
  // The realm accepts its default audience and the resource; the resource's gateways only the latter.
  const { ctx, upgrade, open } = scenario('default', {
    audience: ['https://api.example.test', MCP],
    resource: MCP,
  });

  it("refuses at the upgrade a token whose aud does not name the resource, with the resource's challenge", async () => {
    const result = await upgrade(bearer(ctx.realm.mint()));
    expect(result).toMatchObject({ kind: 'refused', status: 401 });
    if (result.kind !== 'refused') return;
    expect(result.headers['www-authenticate']).toBe(
      `Bearer realm="https://api.example.test", resource_metadata="${METADATA}", error="invalid_token", error_description="The access token audience is not accepted", DPoP algs="${SUPPORTED_ALGORITHMS.join(' ')}", resource_metadata="${METADATA}"`,
    );
    expect(runs.connections).toBe(0);
  });

  it('accepts a token for the resource', async () => {
    const client = await open(bearer(ctx.realm.mint({ subject: 'hana', claims: { aud: MCP } })));
    expect(await client.call('secret', 1)).toEqual({
      event: 'secret',
      data: { sub: 'hana', data: 1 },
    });
  });
});

describe('VoxKeyWsAdapter with authenticateUpgrade: false', () => {
  const { open } = scenario({ authenticateUpgrade: false });

  it('lets the upgrade through and leaves each message to the guards', async () => {
    const client = await open();
    expect(await client.call('secret')).toStrictEqual(NO_TOKEN);
    expect(await client.call('ping')).toEqual({ event: 'pong', data: null });
    expect(runs).toEqual({ connections: 1, secret: 0 });
  });
});
