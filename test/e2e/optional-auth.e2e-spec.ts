import { Controller, Get, Req } from '@nestjs/common';
import { Query, Resolver } from '@nestjs/graphql';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import passport from 'passport';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { VerifiedTokenCache } from '../../lib/cache/verified-token.cache';
import {
  BearerToken,
  OptionalAuth,
  Public,
  Scopes,
  VoxKeyModule,
  VoxKeyUser,
  type VoxKeyClaims,
} from '../../lib/index';
import { JwksKeyProvider } from '../../lib/keys/jwks-key.provider';
import { RevocationList } from '../../lib/services/revocation-list';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { PLATFORMS } from '../support/app';
import {
  createGraphQLApp,
  GRAPHQL_DRIVERS,
  type GraphQLApp,
  graphqlModule,
  postGraphQL,
} from '../support/graphql-app';
import { withTwoAuthorizationFields } from '../support/raw-http';
import { realmScenario } from '../support/realm-scenario';
import { RoutesController } from '../support/routes';
import { createGatewayApp, nextEvent } from '../support/ws-app';

const AUDIENCE = 'https://api.example.test/optional';
/** A claim no handler may ever see from a refused token. */
const CANARY = 'canary-7d1f0c';

/** What one handler call saw, in every place a token's content could reach it. */
interface Seen {
  route: string;
  user: VoxKeyClaims | undefined;
  token: string | undefined;
  reqUser: unknown;
}
const seen: Seen[] = [];

function record(route: string, user: unknown, token: unknown, req: { user?: unknown }) {
  seen.push({
    route,
    user: user as VoxKeyClaims | undefined,
    token: token as string | undefined,
    reqUser: req.user,
  });
  return { route, sub: (user as VoxKeyClaims | undefined)?.sub ?? null };
}

@Controller('optional')
class OptionalController {
  @OptionalAuth() @Get('strict') strict(
    @VoxKeyUser() user: VoxKeyClaims | undefined,
    @BearerToken() token: string | undefined,
    @Req() req: { user?: unknown },
  ) {
    return record('strict', user, token, req);
  }

  @OptionalAuth({ invalidToken: 'anonymous' }) @Get('lenient') lenient(
    @VoxKeyUser() user: VoxKeyClaims | undefined,
    @BearerToken() token: string | undefined,
    @Req() req: { user?: unknown },
  ) {
    return record('lenient', user, token, req);
  }

  @Public() @Get('public') open(
    @VoxKeyUser() user: VoxKeyClaims | undefined,
    @BearerToken() token: string | undefined,
    @Req() req: { user?: unknown },
  ) {
    return record('public', user, token, req);
  }
}

/** Controller `@Public()`, handler `@OptionalAuth()`: the handler wins. */
@Public()
@Controller('public-controller')
class PublicController {
  @Get() plain() {
    return { route: 'public-controller' };
  }

  @OptionalAuth() @Get('optional') optional(
    @VoxKeyUser() user: VoxKeyClaims | undefined,
    @BearerToken() token: string | undefined,
    @Req() req: { user?: unknown },
  ) {
    return record('public-controller/optional', user, token, req);
  }
}

/** Controller `@OptionalAuth()`, handler `@Public()`: the handler wins. */
@OptionalAuth()
@Controller('optional-controller')
class OptionalControllerLevel {
  @Get() plain(
    @VoxKeyUser() user: VoxKeyClaims | undefined,
    @BearerToken() token: string | undefined,
    @Req() req: { user?: unknown },
  ) {
    return record('optional-controller', user, token, req);
  }

  @Public() @Get('public') open(
    @VoxKeyUser() user: VoxKeyClaims | undefined,
    @BearerToken() token: string | undefined,
    @Req() req: { user?: unknown },
  ) {
    return record('optional-controller/public', user, token, req);
  }
}

/** A controller's scopes do not apply to a handler that makes the token optional. */
@Scopes('admin')
@Controller('admin')
class AdminController {
  @Get() root() {
    return { admin: true };
  }

  @OptionalAuth() @Get('preview') preview(
    @VoxKeyUser() user: VoxKeyClaims | undefined,
    @BearerToken() token: string | undefined,
    @Req() req: { user?: unknown },
  ) {
    return record('admin/preview', user, token, req);
  }
}

const CONTROLLERS = [
  OptionalController,
  PublicController,
  OptionalControllerLevel,
  AdminController,
  RoutesController,
];

/** An unsigned token (`alg: none`) with the realm's claims. */
function unsignedToken(realm: VoxKeyTestRealm, claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const payload = {
    iss: realm.issuer,
    aud: AUDIENCE,
    sub: 'x',
    iat: now,
    exp: now + 300,
    ...claims,
  };
  return `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode(payload)}.`;
}

describe.each(PLATFORMS)('@OptionalAuth() on %s', (platform) => {
  const { ctx } = realmScenario(
    platform,
    { audience: AUDIENCE },
    { jwks: { cooldownMs: 0 } },
    { controllers: CONTROLLERS },
  );
  let other: VoxKeyTestRealm;
  beforeAll(async () => {
    other = await VoxKeyTestRealm.start({ audience: AUDIENCE });
  });
  afterAll(async () => {
    await other?.close();
  });
  beforeEach(() => {
    seen.length = 0;
  });

  const get = (path: string, authorization?: string) => {
    const req = request(ctx.app.getHttpServer()).get(path);
    return authorization === undefined ? req : req.set('Authorization', authorization);
  };
  const withCanary = (options: Parameters<VoxKeyTestRealm['mint']>[0] = {}) =>
    ctx.realm.mint({ ...options, claims: { canary: CANARY, ...options.claims } });
  const badSignature = () => {
    const [header, payload] = withCanary().split('.');
    return `${header}.${payload}.${ctx.realm.mint().split('.')[2]}`;
  };
  const anonymous = (route: string): Seen => ({
    route,
    user: undefined,
    token: undefined,
    reqUser: undefined,
  });

  describe('strict (the default)', () => {
    it('OA-01 no header: 200, no user, and the key set is never read', async () => {
      const before = ctx.realm.jwksRequests;
      const res = await get('/optional/strict');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ route: 'strict', sub: null });
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(seen).toEqual([anonymous('strict')]);
      expect(ctx.realm.jwksRequests).toBe(before);
    });

    it.each([
      ['Basic', 'Basic dXNlcjpwYXNz'],
      ['DPoP', 'DPoP abc.def.ghi'],
      ['an empty header', ''],
    ])('OA-02 another scheme (%s): 200 anonymous', async (_name, authorization) => {
      const res = await get('/optional/strict', authorization);
      expect(res.status).toBe(200);
      expect(seen).toEqual([anonymous('strict')]);
    });

    it('a valid token: 200 with its claims and its token, exactly as on a protected route', async () => {
      const token = ctx.realm.mint({ subject: 'alice', scope: 'read:posts' });
      const res = await get('/optional/strict', `Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ route: 'strict', sub: 'alice' });
      expect(seen).toHaveLength(1);
      expect(seen[0].user).toMatchObject({ sub: 'alice', scope: 'read:posts' });
      expect(seen[0].token).toBe(token);
      expect(seen[0].reqUser).toBe(seen[0].user);
    });

    it.each([
      ['expired', () => withCanary({ expiresIn: -60 }), 'The access token expired'],
      ['bad signature', badSignature, 'The access token signature is invalid'],
      [
        'wrong audience',
        () => withCanary({ claims: { aud: 'https://other.test' } }),
        'The access token audience is not accepted',
      ],
      [
        'alg: none',
        () => unsignedToken(ctx.realm, { canary: CANARY }),
        // An empty signature part is refused before its header is read.
        'The access token is malformed',
      ],
      [
        'a foreign issuer',
        () => withCanary({ claims: { iss: other.issuer } }),
        'The access token issuer is not accepted',
      ],
    ])('OA-03 %s: 401 invalid_token, the handler is not called', async (_name, token, message) => {
      const res = await get('/optional/strict', `Bearer ${token()}`);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ statusCode: 401, error: 'Invalid token', message });
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
      expect(seen).toEqual([]);
    });

    it('OA-04 a token of another realm (its own keys): 401, not anonymous', async () => {
      const res = await get('/optional/strict', `Bearer ${other.mint()}`);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('Invalid token');
      expect(seen).toEqual([]);
    });

    it.each(['/optional/strict', '/optional/lenient'])(
      'OA-05 ambiguous credentials on %s: 400 invalid_request, the handler is not called',
      async (path) => {
        const port = (ctx.app.getHttpServer().address() as AddressInfo).port;
        const twoFields = await withTwoAuthorizationFields(port, ctx.realm.mint(), path);
        expect(twoFields.status).toBe(400);
        const token = ctx.realm.mint();
        const twoCredentials = await get(path, `Bearer ${token} Bearer ${token}`);
        expect(twoCredentials.status).toBe(400);
        expect(twoCredentials.headers['www-authenticate']).toContain('error="invalid_request"');
        expect(seen).toEqual([]);
      },
    );
  });

  describe("lenient ({ invalidToken: 'anonymous' })", () => {
    it.each([
      ['expired', () => withCanary({ expiresIn: -60 }), 'The access token expired'],
      ['bad signature', badSignature, 'The access token signature is invalid'],
      ['alg: none', () => unsignedToken(ctx.realm, { canary: CANARY }), undefined],
    ])(
      'OA-06 %s: 200 anonymous, nothing of the token reaches the handler, and the challenge says why',
      async (_name, mint, description) => {
        const token = mint();
        const res = await get('/optional/lenient', `Bearer ${token}`);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ route: 'lenient', sub: null });
        expect(seen).toEqual([anonymous('lenient')]);
        expect(JSON.stringify(seen)).not.toContain(CANARY);
        expect(res.text).not.toContain(CANARY);
        const challenge = res.headers['www-authenticate'];
        expect(challenge).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
        if (description) expect(challenge).toContain(`error_description="${description}"`);
        expect(ctx.app.get(VerifiedTokenCache).get(token)).toBeUndefined();
      },
    );

    it('no header: 200 anonymous without a challenge', async () => {
      const res = await get('/optional/lenient');
      expect(res.status).toBe(200);
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(seen).toEqual([anonymous('lenient')]);
    });

    it('a valid token: 200 with its claims, and no challenge', async () => {
      const token = ctx.realm.mint({ subject: 'bob' });
      const res = await get('/optional/lenient', `Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(res.body.sub).toBe('bob');
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(seen[0].token).toBe(token);
    });
  });

  describe('OA-07 @Public() never reads a token', () => {
    it.each([
      ['garbage', 'Bearer garbage junk "quoted"'],
      ['an expired token', () => withCanary({ expiresIn: -60 })],
      ['a huge header', `Bearer ${'a'.repeat(9000)}`],
    ])(
      '%s: 200, no user, and neither Passport, the deny list nor the key set is asked',
      async (_name, value) => {
        const spies = [
          jest.spyOn(passport, 'authenticate'),
          jest.spyOn(JwksKeyProvider.prototype, 'getKey'),
          jest.spyOn(RevocationList.prototype, 'isRevoked'),
          jest.spyOn(VerifiedTokenCache.prototype, 'get'),
        ];
        const before = ctx.realm.jwksRequests;
        try {
          const authorization = typeof value === 'string' ? value : `Bearer ${value()}`;
          const res = await get('/optional/public', authorization);
          expect(res.status).toBe(200);
          expect(res.headers['www-authenticate']).toBeUndefined();
          expect(seen).toEqual([anonymous('public')]);
          for (const spy of spies) expect(spy).not.toHaveBeenCalled();
          expect(ctx.realm.jwksRequests).toBe(before);
        } finally {
          for (const spy of spies) spy.mockRestore();
        }
      },
    );
  });

  describe("OA-08 the handler's mode wins over the controller's", () => {
    it('controller @Public(), handler @OptionalAuth(): the token is read and checked', async () => {
      expect((await get('/public-controller', 'Bearer junk junk')).status).toBe(200);
      const valid = await get('/public-controller/optional', `Bearer ${ctx.realm.mint()}`);
      expect(valid.status).toBe(200);
      expect(valid.body.sub).toBe('test-user');
      const expired = await get(
        '/public-controller/optional',
        `Bearer ${ctx.realm.mint({ expiresIn: -60 })}`,
      );
      expect(expired.status).toBe(401);
      expect((await get('/public-controller/optional')).status).toBe(200);
    });

    it('controller @OptionalAuth(), handler @Public(): no token is read', async () => {
      const expired = `Bearer ${ctx.realm.mint({ expiresIn: -60 })}`;
      expect((await get('/optional-controller', expired)).status).toBe(401);
      const valid = await get('/optional-controller', `Bearer ${ctx.realm.mint()}`);
      expect(valid.body.sub).toBe('test-user');
      const open = await get('/optional-controller/public', `Bearer ${ctx.realm.mint()}`);
      expect(open.status).toBe(200);
      expect(open.body.sub).toBeNull();
      expect((await get('/optional-controller/public', expired)).status).toBe(200);
    });

    it("controller @Scopes(), handler @OptionalAuth(): the controller's scopes do not apply", async () => {
      const token = `Bearer ${ctx.realm.mint({ scope: 'read:posts' })}`;
      expect((await get('/admin', token)).status).toBe(403);
      const preview = await get('/admin/preview', token);
      expect(preview.status).toBe(200);
      expect(preview.body.sub).toBe('test-user');
      expect((await get('/admin/preview')).status).toBe(200);
    });
  });

  it('a required route is unchanged: no token is a 401', async () => {
    expect((await get('/open')).status).toBe(401);
  });
});

describe.each(PLATFORMS)('@OptionalAuth() with the key set down (cold) on %s', (platform) => {
  // No pre-warm: the key set stays cold until a request asks for it, with the endpoint down.
  const { ctx } = realmScenario(
    platform,
    { audience: AUDIENCE },
    { jwks: { cooldownMs: 0 }, prewarm: 'off' },
    { controllers: CONTROLLERS },
  );
  beforeAll(() => {
    ctx.realm.jwksAvailable = false;
  });
  beforeEach(() => {
    seen.length = 0;
  });
  const get = (path: string, token?: string) => {
    const req = request(ctx.app.getHttpServer()).get(path);
    return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
  };

  it('OA-10 strict: the same 503 as a required route, never a 200 with a user', async () => {
    const required = await get('/open', ctx.realm.mint());
    const optional = await get('/optional/strict', ctx.realm.mint());
    expect(required.status).toBe(503);
    expect(optional.status).toBe(503);
    expect(optional.body).toEqual(required.body);
    expect(optional.headers['retry-after']).toBeDefined();
    expect(seen).toEqual([]);
  });

  it('lenient: 200 anonymous, without an invalid_token challenge (the token may be fine)', async () => {
    const res = await get('/optional/lenient', ctx.realm.mint({ claims: { canary: CANARY } }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ route: 'lenient', sub: null });
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(seen).toEqual([
      { route: 'lenient', user: undefined, token: undefined, reqUser: undefined },
    ]);
  });

  it('no token: 200 anonymous, the key set is not needed', async () => {
    expect((await get('/optional/strict')).status).toBe(200);
  });
});

describe.each(PLATFORMS)('OA-09 start-up errors on %s', (platform) => {
  let realm: VoxKeyTestRealm;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
  });
  afterAll(async () => {
    await realm?.close();
  });

  @Controller('feed')
  class FeedController {
    @OptionalAuth() @Scopes('read:feed') @Get() list() {
      return [];
    }
  }

  @Resolver()
  class PostsResolver {
    @Public() @Scopes('read:posts') @Query(() => String) posts() {
      return '';
    }
  }

  it('@OptionalAuth() with @Scopes() on one handler: app.init() rejects, naming Controller.method', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [VoxKeyModule.forRoot(realm.moduleOptions())],
      controllers: [FeedController],
      providers: [PostsResolver],
    }).compile();
    const app = moduleRef.createNestApplication(
      platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
      { logger: false },
    );
    try {
      const init = app.init();
      await expect(init).rejects.toThrow(
        /FeedController\.list \(@OptionalAuth\(\) with @Scopes\(\)\)/,
      );
      await expect(init).rejects.toThrow(/PostsResolver\.posts \(@Public\(\) with @Scopes\(\)\)/);
    } finally {
      await app.close().catch(() => undefined);
    }
  });
});

/** A resolver whose queries make the token optional. */
@Resolver()
class ViewerResolver {
  @OptionalAuth()
  @Query(() => String)
  viewer(@VoxKeyUser('sub') sub: string | undefined): string {
    return sub ?? 'anonymous';
  }

  @OptionalAuth({ invalidToken: 'anonymous' })
  @Query(() => String)
  lenientViewer(
    @VoxKeyUser() user: VoxKeyClaims | undefined,
    @BearerToken() token: string | undefined,
  ): string {
    return JSON.stringify({ user: user ?? null, token: token ?? null });
  }
}

describe.each(GRAPHQL_DRIVERS)('@OptionalAuth() on GraphQL resolvers (%s)', (driver) => {
  let realm: VoxKeyTestRealm;
  let gql: GraphQLApp;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
    gql = await createGraphQLApp(
      driver,
      [
        VoxKeyModule.forRoot(realm.moduleOptions({ jwks: { cooldownMs: 0 } })),
        graphqlModule(driver),
      ],
      [ViewerResolver],
    );
  });
  afterAll(async () => {
    await gql?.app.close();
    await realm?.close();
  });

  it('no token: the resolver runs anonymously', async () => {
    const res = await postGraphQL(gql.url, '{ viewer }');
    expect(res.body).toEqual({ data: { viewer: 'anonymous' } });
  });

  it('another scheme: anonymous too', async () => {
    const res = await postGraphQL(gql.url, '{ viewer }', 'Basic dXNlcjpwYXNz');
    expect(res.body).toEqual({ data: { viewer: 'anonymous' } });
  });

  it('a valid token: the resolver gets its claims', async () => {
    const res = await postGraphQL(
      gql.url,
      '{ viewer }',
      `Bearer ${realm.mint({ subject: 'carol' })}`,
    );
    expect(res.body).toEqual({ data: { viewer: 'carol' } });
  });

  it('a token that fails a check: refused with UNAUTHENTICATED invalid_token, the resolver not run', async () => {
    const res = await postGraphQL(
      gql.url,
      '{ viewer }',
      `Bearer ${realm.mint({ expiresIn: -60 })}`,
    );
    expect(res.body.data).toBeNull();
    expect(res.body.errors?.[0].extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      statusCode: 401,
      oauthError: 'invalid_token',
    });
  });

  it('lenient: an expired token is anonymous, nothing of it reaches the resolver', async () => {
    const token = realm.mint({ expiresIn: -60, claims: { canary: CANARY } });
    const res = await postGraphQL(gql.url, '{ lenientViewer }', `Bearer ${token}`);
    expect(res.body.errors).toBeUndefined();
    expect(JSON.parse(res.body.data?.lenientViewer as string)).toEqual({ user: null, token: null });
    expect(res.text).not.toContain(CANARY);
    // The challenge reaches the client where the driver hands resolvers a response.
    const challenge = res.headers.get('www-authenticate');
    if (driver === 'apollo-fastify') expect(challenge).toBeNull();
    else expect(challenge).toContain('error="invalid_token"');
  });
});

/** A socket.io gateway whose messages make the token optional (no connection-time check). */
@WebSocketGateway()
class ViewerGateway {
  @OptionalAuth()
  @SubscribeMessage('viewer')
  viewer(@VoxKeyUser('sub') sub: string | undefined): string {
    return sub ?? 'anonymous';
  }

  @OptionalAuth({ invalidToken: 'anonymous' })
  @SubscribeMessage('lenientViewer')
  lenientViewer(
    @VoxKeyUser() user: VoxKeyClaims | undefined,
    @BearerToken() token: string | undefined,
  ): string {
    return JSON.stringify({ user: user ?? null, token: token ?? null });
  }
}

describe('@OptionalAuth() on a socket.io gateway', () => {
  let realm: VoxKeyTestRealm;
  let url: string;
  let close: () => Promise<void>;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
    const started = await createGatewayApp(
      [VoxKeyModule.forRoot(realm.moduleOptions())],
      [ViewerGateway],
    );
    url = `http://127.0.0.1:${started.port}`;
    close = () => started.app.close();
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await close?.();
    await realm?.close();
  });

  const connect = async (token?: string): Promise<Socket> => {
    const socket = io(url, {
      reconnection: false,
      forceNew: true,
      ...(token === undefined ? {} : { auth: { token } }),
    });
    sockets.push(socket);
    await nextEvent(socket, 'connect');
    return socket;
  };
  const ask = (socket: Socket, event: string) =>
    socket.timeout(3000).emitWithAck(event) as Promise<string>;

  it('no token: the handler runs anonymously', async () => {
    const socket = await connect();
    expect(await ask(socket, 'viewer')).toBe('anonymous');
    expect(JSON.parse(await ask(socket, 'lenientViewer'))).toEqual({ user: null, token: null });
  });

  it('a valid token: the handler gets its claims and its token', async () => {
    const token = realm.mint({ subject: 'dave' });
    const socket = await connect(token);
    expect(await ask(socket, 'viewer')).toBe('dave');
    const seenByHandler = JSON.parse(await ask(socket, 'lenientViewer'));
    expect(seenByHandler.user.sub).toBe('dave');
    expect(seenByHandler.token).toBe(token);
  });

  it('a token that fails a check: refused (strict), anonymous with nothing of it (lenient)', async () => {
    const socket = await connect(realm.mint({ expiresIn: -60, claims: { canary: CANARY } }));
    const exception = nextEvent<Record<string, unknown>>(socket, 'exception');
    socket.emit('viewer', {}, () => undefined);
    expect(await exception).toMatchObject({
      status: 'error',
      statusCode: 401,
      code: 'invalid_token',
    });
    const lenient = await ask(socket, 'lenientViewer');
    expect(JSON.parse(lenient)).toEqual({ user: null, token: null });
    expect(lenient).not.toContain(CANARY);
  });
});
