import { Controller, Get, type INestApplication, Module, Post } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { io } from 'socket.io-client';
import request from 'supertest';
import {
  BearerToken,
  M2MTokenService,
  RequireActiveToken,
  RevocationService,
  Scopes,
  VoxKeyModule,
  VoxKeyUser,
  type VoxKeyModuleOptions,
} from '../../lib/index';
import { createApp, PLATFORMS } from '../support/app';
import { json } from '../support/http-stub';
import { CaptureLogger } from '../support/capture-logger';
import {
  API_CLIENT,
  JWT_RESOURCE,
  M2M_CLIENT,
  OidcRealm,
  OPAQUE_RESOURCE,
} from '../support/oidc-realm';
import { expectRefusal } from '../support/expect-refusal';

@Controller()
class ServiceRoutes {
  @Scopes('read:posts') @Get('posts') posts() {
    return ['post'];
  }

  @RequireActiveToken() @Scopes('read:posts') @Get('live') live() {
    return { live: true };
  }

  @Get('me') me(@VoxKeyUser() user: unknown) {
    return user;
  }

  constructor(private readonly revocation: RevocationService) {}

  @Post('logout') async logout(@BearerToken() token: string) {
    await this.revocation.revoke(token);
    return { revoked: true };
  }
}

/** The same two checks on a socket.io gateway: `@RequireActiveToken()` per message too. */
@WebSocketGateway()
class LiveGateway {
  @Scopes('read:posts') @SubscribeMessage('posts') posts() {
    return ['post'];
  }

  @RequireActiveToken() @Scopes('read:posts') @SubscribeMessage('live') live() {
    return { live: true };
  }
}

@Module({ providers: [LiveGateway] })
class LiveGatewayModule {}

/** Emits `event` on a socket with `token`; resolves with the ack, or the `exception` event's payload. */
async function emitOnSocket(
  url: string,
  token: string,
  event: string,
): Promise<{ ack?: unknown; exception?: Record<string, unknown> }> {
  const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${event}`)), 5_000);
      socket.once('exception', (exception: Record<string, unknown>) => {
        clearTimeout(timer);
        resolve({ exception });
      });
      socket.emit(event, {}, (ack: unknown) => {
        clearTimeout(timer);
        resolve({ ack });
      });
    });
  } finally {
    socket.close();
  }
}

describe.each(PLATFORMS)('services in a running app on %s', (platform) => {
  let realm: OidcRealm;
  beforeAll(async () => {
    realm = await OidcRealm.start();
  });
  afterEach(() => realm.reset());
  afterAll(async () => realm?.close());

  describe("validation: 'jwt' with @RequireActiveToken", () => {
    let app: INestApplication;
    const logger = new CaptureLogger();
    const get = (path: string, token: string) =>
      request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

    beforeAll(async () => {
      const options = realm.moduleOptions({
        requestTimeoutMs: 500,
        introspection: { cacheTtlMs: 0 },
        m2m: { ...M2M_CLIENT, resource: JWT_RESOURCE },
      }) as VoxKeyModuleOptions;
      app = await createApp(
        platform,
        [VoxKeyModule.forRoot(options), LiveGatewayModule],
        [ServiceRoutes],
        logger,
      );
    });
    afterAll(async () => app?.close());

    it('an M2M token from the real server is accepted by a @Scopes route', async () => {
      const m2m = app.get(M2MTokenService);
      expect((await get('/posts', await m2m.getToken({ scope: 'read:posts' }))).status).toBe(200);
      expect((await get('/posts', await m2m.getToken({ scope: 'write:posts' }))).status).toBe(403);
    });

    it('@RequireActiveToken asks the introspection endpoint; a plain route does not', async () => {
      const token = await realm.issueToken();
      const before = realm.counts.introspect;
      expect((await get('/posts', token)).status).toBe(200);
      expect(realm.counts.introspect - before).toBe(0);
      expect((await get('/live', token)).status).toBe(200);
      expect(realm.counts.introspect - before).toBe(1);
    });

    it('a token revoked at the realm: 200 turns into 401 on @RequireActiveToken routes', async () => {
      const token = await realm.issueToken();
      expect((await get('/live', token)).status).toBe(200);
      await realm.revoke(token);
      const res = await get('/live', token);
      expectRefusal(res, 401, 'Invalid token', 'The access token is not active');
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
      // Local validation alone cannot know; that is the trade-off @RequireActiveToken buys.
      expect((await get('/posts', token)).status).toBe(200);
    });

    it('on a gateway too: a token revoked at the realm is refused by @RequireActiveToken messages only', async () => {
      const url = await app.getUrl();
      const token = await realm.issueToken();
      expect(await emitOnSocket(url, token, 'live')).toEqual({ ack: { live: true } });
      await realm.revoke(token);
      expect(await emitOnSocket(url, token, 'live')).toEqual({
        exception: {
          status: 'error',
          statusCode: 401,
          error: 'Invalid token',
          code: 'invalid_token',
          message: 'The access token is not active',
        },
      });
      expect(await emitOnSocket(url, token, 'posts')).toEqual({ ack: ['post'] });
    });

    it('a token revoked through RevocationService is refused at once on every route', async () => {
      const token = await realm.issueToken();
      expect((await get('/posts', token)).status).toBe(200);
      await app.get(RevocationService).revoke(token);
      for (const path of ['/posts', '/live']) {
        const res = await get(path, token);
        expect(res.status).toBe(401);
        expect(res.body.message).toBe('The access token was revoked');
      }
    });

    it('another encoding of a revoked token signature is refused too', async () => {
      const token = await realm.issueToken();
      // The last base64url character of a 256-byte signature carries 4 unused bits.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(token.at(-1)!);
      const variant = token.slice(0, -1) + alphabet[last ^ 1];
      expect((await get('/posts', variant)).status).toBe(200); // the variant does verify
      await app.get(RevocationService).revoke(token);
      const res = await get('/posts', variant);
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('The access token was revoked');
    });

    it('a logout route revokes the caller token given by @BearerToken()', async () => {
      const token = await realm.issueToken();
      const res = await request(app.getHttpServer())
        .post('/logout')
        .set('Authorization', `Bearer    ${token}`);
      expect(res.status).toBe(201);
      expect((await get('/posts', token)).status).toBe(401);
    });

    it.each([
      [
        'answers 503',
        (res: import('node:http').ServerResponse) =>
          json(res, 503, { error: 'temporarily_unavailable' }),
      ],
      [
        'answers an HTML page',
        (res: import('node:http').ServerResponse) => res.writeHead(200).end('<html>'),
      ],
      ['hangs (timeout)', () => undefined],
    ])(
      'introspection endpoint %s: 503 with a clear body, never 200 or 500',
      async (_name, fault) => {
        const token = await realm.issueToken();
        realm.intercept.introspect = (_req, res) => (fault(res), true);
        const res = await get('/live', token);
        expectRefusal(
          res,
          503,
          'Service Unavailable',
          'The access token cannot be validated right now; try again later',
        );
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
        expect((await get('/posts', token)).status).toBe(200);
      },
    );

    it('our own credentials rejected by the introspection endpoint: 503, logged as a server-side problem', async () => {
      const token = await realm.issueToken();
      realm.intercept.introspect = (_req, res) => (
        json(res, 401, { error: 'invalid_client' }),
        true
      );
      const res = await get('/live', token);
      expect(res.status).toBe(503);
      expect(
        logger.lines.some((l) => l.startsWith('error') && l.includes('refused this API')),
      ).toBe(true);
      for (const line of logger.lines) {
        expect(line).not.toContain(token.split('.')[2]);
        expect(line).not.toContain(API_CLIENT.clientSecret);
      }
    });
  });

  describe("validation: 'introspection' (opaque tokens)", () => {
    let app: INestApplication;
    const get = (path: string, token?: string) => {
      const req = request(app.getHttpServer()).get(path);
      return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
    };

    beforeAll(async () => {
      const options = realm.moduleOptions({
        audience: OPAQUE_RESOURCE,
        validation: 'introspection',
        requestTimeoutMs: 500,
        introspection: { cacheTtlMs: 0 },
      }) as VoxKeyModuleOptions;
      app = await createApp(platform, [VoxKeyModule.forRoot(options)], [ServiceRoutes]);
    });
    afterAll(async () => app?.close());

    it('authenticates an opaque token; req.user is the introspection answer and @Scopes reads its scope', async () => {
      const token = await realm.issueToken({ resource: OPAQUE_RESOURCE, scope: 'read:posts' });
      expect((await get('/posts', token)).status).toBe(200);
      const me = await get('/me', token);
      expect(me.body).toMatchObject({
        active: true,
        client_id: 'm2m-client',
        aud: OPAQUE_RESOURCE,
        scope: 'read:posts',
      });
      const other = await realm.issueToken({ resource: OPAQUE_RESOURCE, scope: 'write:posts' });
      expect((await get('/posts', other)).status).toBe(403);
    });

    it('a revoked, unknown or other-audience token is 401', async () => {
      const token = await realm.issueToken({ resource: OPAQUE_RESOURCE });
      await realm.revoke(token);
      for (const bad of [
        token,
        'unknown-opaque-token',
        await realm.issueToken({ resource: JWT_RESOURCE }),
      ]) {
        const res = await get('/posts', bad);
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({
          error: 'Invalid token',
          message: 'The access token is not active',
        });
      }
    });

    it('no token is still "No token"', async () => {
      expect((await get('/posts')).body.error).toBe('No token');
    });

    it.each([
      ['no exp', { active: true, aud: OPAQUE_RESOURCE, scope: 'read:posts' }],
      [
        'a refresh token',
        {
          active: true,
          aud: OPAQUE_RESOURCE,
          exp: 9_999_999_999,
          token_type: 'refresh_token',
          scope: 'read:posts',
        },
      ],
      [
        'a DPoP-bound token',
        {
          active: true,
          aud: OPAQUE_RESOURCE,
          exp: 9_999_999_999,
          token_type: 'DPoP',
          scope: 'read:posts',
        },
      ],
      [
        'a future nbf',
        {
          active: true,
          aud: OPAQUE_RESOURCE,
          exp: 9_999_999_999,
          nbf: 9_999_999_000,
          scope: 'read:posts',
        },
      ],
      [
        'a DPoP binding (cnf)',
        {
          active: true,
          aud: OPAQUE_RESOURCE,
          exp: 9_999_999_999,
          cnf: { jkt: 'x' },
          scope: 'read:posts',
        },
      ],
    ])('an active answer with %s does not authenticate a request', async (_name, body) => {
      realm.intercept.introspect = (_req, res) => (json(res, 200, body), true);
      const res = await get('/posts', `some-opaque-token-${_name.replace(/\W/g, '')}`);
      expect(res.status).toBe(401);
    });

    it('introspection endpoint down: 503', async () => {
      const token = await realm.issueToken({ resource: OPAQUE_RESOURCE });
      realm.intercept.introspect = (_req, res) => (json(res, 500, { error: 'server_error' }), true);
      expect((await get('/posts', token)).status).toBe(503);
    });
  });
});
