import { Controller, Delete, Get, Post } from '@nestjs/common';
import passport from 'passport';
import request from 'supertest';
import {
  BearerToken,
  VoxKeyModule,
  VoxKeyUser,
  type VoxKeyModuleOptions,
  type VoxKeyTokenLocationOptions,
} from '../../lib/index';
import { VerifiedTokenCache } from '../../lib/cache/verified-token.cache';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { createApp, type Platform, PLATFORMS } from '../support/app';
import { CaptureLogger } from '../support/capture-logger';
import { expectRefusal } from '../support/expect-refusal';
import {
  createGraphQLApp,
  GRAPHQL_DRIVERS,
  type GraphQLApp,
  type GraphQLResponse,
  graphqlModule,
} from '../support/graphql-app';
import { PostsResolver } from '../support/graphql-resolvers';
import { realmScenario } from '../support/realm-scenario';

const AUDIENCE = 'https://api.example.test/v1';
const CHALLENGE = `Bearer realm="${AUDIENCE}"`;
const APP = 'https://app.example.test';
const EVIL = 'https://evil.example';
const COOKIE = '__Host-vx_at';
const NO_TOKEN = 'A Bearer access token is required in the Authorization header';

/** What the handlers saw: how often each ran, and the last `@BearerToken()`. */
const seen = { calls: 0, token: undefined as string | undefined };

@Controller('c')
class CookieRoutes {
  @Get() read(@BearerToken() token: string) {
    seen.calls++;
    seen.token = token;
    return { ok: true };
  }

  @Post() write(@BearerToken() token: string) {
    seen.calls++;
    seen.token = token;
    return { ok: true };
  }

  @Delete() remove() {
    seen.calls++;
    return { ok: true };
  }

  @Get('me') me(@VoxKeyUser('sub') sub: string) {
    return { sub };
  }
}

/** Every object the guard handed to Passport, in order; Passport itself still runs. */
const handed: unknown[] = [];
let authenticate: jest.SpyInstance;
let cacheLookups: jest.SpyInstance;
beforeAll(() => {
  const original = passport.authenticate.bind(passport) as (
    ...args: unknown[]
  ) => (req: unknown, res: unknown, next: unknown) => unknown;
  authenticate = jest.spyOn(passport, 'authenticate').mockImplementation(((...args: unknown[]) => {
    const middleware = original(...args);
    return (req: unknown, res: unknown, next: unknown) => {
      // Copied before Passport adds its session helpers to it.
      handed.push({ ...(req as object) });
      return middleware(req, res, next);
    };
  }) as never);
  cacheLookups = jest.spyOn(VerifiedTokenCache.prototype, 'get');
});
afterAll(() => {
  authenticate.mockRestore();
  cacheLookups.mockRestore();
});

/** A scenario whose app reads tokens as `tokenLocation` says, with its log captured. */
function cookieScenario(platform: Platform, tokenLocation: VoxKeyTokenLocationOptions) {
  const logger = new CaptureLogger();
  const { ctx } = realmScenario(
    platform,
    { audience: AUDIENCE },
    { tokenLocation },
    { controllers: [CookieRoutes], logger },
  );
  const tokens: string[] = [];
  const mint = (...args: Parameters<VoxKeyTestRealm['mint']>) => {
    const token = ctx.realm.mint(...args);
    tokens.push(token);
    return token;
  };
  const http = () => request(ctx.app.getHttpServer());
  /** No token, nor any of its three segments, in the log (TL-08). */
  const expectLogClean = () => {
    const log = logger.lines.join('\n');
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const token of tokens) {
      expect(log).not.toContain(token);
      for (const segment of token.split('.')) expect(log).not.toContain(segment);
    }
  };
  return { ctx, mint, http, expectLogClean };
}

/** The response carries no trace of `token`: not in its body, not in any header. */
function expectNoEcho(res: request.Response, token: string): void {
  expect(res.text).not.toContain(token);
  expect(JSON.stringify(res.headers)).not.toContain(token);
  for (const segment of token.split('.')) expect(res.text).not.toContain(segment);
}

function expectCrossSiteRefusal(res: request.Response): void {
  expectRefusal(res, 403, 'Forbidden', 'Cross-site request refused');
  expect(res.headers['www-authenticate']).toBeUndefined();
}

describe.each(PLATFORMS)('tokens in a cookie on %s', (platform) => {
  it("a cookie without 'tokenLocation.csrf' stops the application, naming the option (TL-06)", async () => {
    const realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
    try {
      const options: VoxKeyModuleOptions = realm.moduleOptions({
        tokenLocation: { cookie: COOKIE },
      });
      await expect(
        createApp(platform, [VoxKeyModule.forRoot(options)], [CookieRoutes]),
      ).rejects.toThrow("'tokenLocation.cookie' needs a CSRF defence: 'tokenLocation.csrf'");
    } finally {
      await realm.close();
    }
  });

  describe('csrf: { origins }', () => {
    const { ctx, mint, http, expectLogClean } = cookieScenario(platform, {
      cookie: COOKIE,
      csrf: { origins: [APP] },
    });
    const cookie = (token: string) => `${COOKIE}=${token}`;

    it('a POST with the cookie from another origin is a 403; the handler never runs and the token is never verified (TL-03)', async () => {
      const before = {
        calls: seen.calls,
        passport: authenticate.mock.calls.length,
        cache: cacheLookups.mock.calls.length,
        jwks: ctx.realm.jwksRequests,
      };
      const token = mint();
      const res = await http().post('/c').set('Cookie', cookie(token)).set('Origin', EVIL);
      expectCrossSiteRefusal(res);
      expectNoEcho(res, token);
      expect({
        calls: seen.calls,
        passport: authenticate.mock.calls.length,
        cache: cacheLookups.mock.calls.length,
        jwks: ctx.realm.jwksRequests,
      }).toEqual(before);
    });

    it.each([
      ['no Origin and no Sec-Fetch-Site (TL-04)', {}],
      ['a sibling subdomain (Sec-Fetch-Site: same-site)', { 'Sec-Fetch-Site': 'same-site' }],
      ['Origin: null', { Origin: 'null' }],
      ['the allowed origin over plain http', { Origin: 'http://app.example.test' }],
      ['a look-alike origin', { Origin: `${APP}.evil.example` }],
    ])('a POST with the cookie and %s is a 403', async (_name, headers) => {
      const before = seen.calls;
      const res = await http().post('/c').set('Cookie', cookie(mint())).set(headers);
      expectCrossSiteRefusal(res);
      expect(seen.calls).toBe(before);
    });

    it('a DELETE from another origin is refused too (every method but GET, HEAD and OPTIONS)', async () => {
      const res = await http().delete('/c').set('Cookie', cookie(mint())).set('Origin', EVIL);
      expectCrossSiteRefusal(res);
    });

    it('a POST from the allowed origin is authenticated; Passport gets the token as a Bearer header, and @BearerToken() gives it', async () => {
      const token = mint({ subject: 'cookie-user' });
      handed.length = 0;
      const res = await http()
        .post('/c')
        .set('Cookie', `a=1; ${cookie(token)}`)
        .set('Origin', APP);
      expect(res.status).toBe(201);
      expect(seen.token).toBe(token);
      expect(handed).toEqual([{ headers: { authorization: `Bearer ${token}` } }]);
    });

    it('a POST with Sec-Fetch-Site: same-origin is authenticated', async () => {
      const res = await http()
        .post('/c')
        .set('Cookie', cookie(mint()))
        .set('Sec-Fetch-Site', 'same-origin');
      expect(res.status).toBe(201);
    });

    it('a cross-site GET with the cookie is authenticated: safe methods are not checked (TL-05)', async () => {
      const token = mint({ subject: 'reader' });
      const res = await http()
        .get('/c/me')
        .set('Cookie', cookie(token))
        .set('Origin', EVIL)
        .set('Sec-Fetch-Site', 'cross-site');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ sub: 'reader' });
    });

    it('the check is for the cookie only: a header token from another origin is authenticated', async () => {
      const res = await http()
        .post('/c')
        .set('Authorization', `Bearer ${mint()}`)
        .set('Origin', EVIL);
      expect(res.status).toBe(201);
    });

    it.each([
      ['different tokens', () => [mint({ subject: 'a' }), mint({ subject: 'b' })]],
      ['the same token', () => Array(2).fill(mint())],
    ])('%s in the header and the cookie are a 400 invalid_request (TL-02)', async (_n, pair) => {
      const [header, inCookie] = pair() as string[];
      const res = await http()
        .get('/c')
        .set('Authorization', `Bearer ${header}`)
        .set('Cookie', cookie(inCookie));
      const description = 'The access token was sent in more than one way';
      expectRefusal(
        res,
        400,
        'Invalid request',
        description,
        `${CHALLENGE}, error="invalid_request", error_description="${description}"`,
      );
    });

    it.each([
      ['in one Cookie header', (a: string, b: string) => `${cookie(a)}; x=1; ${cookie(b)}`],
      ['twice with the same value', (a: string) => `${cookie(a)}; ${cookie(a)}`],
    ])(
      'the cookie name sent twice %s is a 400 invalid_request, never "first wins" (TL-09)',
      async (_n, value) => {
        const [a, b] = [mint(), mint()];
        const res = await http().post('/c').set('Cookie', value(a, b)).set('Origin', APP);
        const description = 'The access token cookie is malformed';
        expectRefusal(
          res,
          400,
          'Invalid request',
          description,
          `${CHALLENGE}, error="invalid_request", error_description="${description}"`,
        );
        expectNoEcho(res, a);
        expectNoEcho(res, b);
      },
    );

    it('a cookie value that is not a b64token is a 400, not echoed', async () => {
      const res = await http().get('/c').set('Cookie', `${COOKIE}="${mint()}"`);
      expect(res.status).toBe(400);
      expect(res.body.message).toBe('The access token cookie is malformed');
      expectNoEcho(res, mint());
    });

    it.each([
      ['expired', () => mint({ expiresIn: -60 })],
      ['signed by a stranger', () => `${mint().slice(0, -8)}AAAAAAAA`],
      ['for another audience', () => mint({ claims: { aud: 'https://other.example' } })],
    ])(
      'a cookie token that fails validation (%s) is a 401 invalid_token, never echoed',
      async (_n, make) => {
        const token = make();
        const res = await http().post('/c').set('Cookie', cookie(token)).set('Origin', APP);
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ statusCode: 401, error: 'Invalid token' });
        expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
        expectNoEcho(res, token);
      },
    );

    it('a cookie token over the length cap is a 401 too_large', async () => {
      const res = await http()
        .get('/c')
        .set('Cookie', cookie('a'.repeat(8193)));
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('The access token is too large');
    });

    it('no token anywhere is the usual 401 "No token"; an empty cookie counts as none', async () => {
      for (const req of [http().get('/c'), http().get('/c').set('Cookie', `${COOKIE}=; x=1`)]) {
        expectRefusal(await req, 401, 'No token', NO_TOKEN, CHALLENGE);
      }
    });

    it('a token only in ?access_token= is ignored: 401 "No token" (TL-01)', async () => {
      const res = await http().get(`/c?access_token=${mint()}`);
      expectRefusal(res, 401, 'No token', NO_TOKEN, CHALLENGE);
    });

    it('no token appears in the log (TL-08)', () => {
      expectLogClean();
    });
  });

  describe('csrf: { header }', () => {
    const { http, mint } = cookieScenario(platform, {
      cookie: COOKIE,
      csrf: { header: 'x-requested-with' },
    });
    const post = () => http().post('/c').set('Cookie', `${COOKIE}=${mint()}`);

    it('a POST with the cookie and without the header is a 403', async () => {
      const before = seen.calls;
      expectCrossSiteRefusal(await post().set('Origin', APP));
      expect(seen.calls).toBe(before);
    });

    it('a POST with the cookie and the header is authenticated, whatever its Origin', async () => {
      expect((await post().set('X-Requested-With', 'XMLHttpRequest')).status).toBe(201);
      expect((await post().set('X-Requested-With', 'fetch').set('Origin', EVIL)).status).toBe(201);
    });

    it('a GET needs no header', async () => {
      expect((await http().get('/c').set('Cookie', `${COOKIE}=${mint()}`)).status).toBe(200);
    });
  });

  describe('header: false', () => {
    const { http, mint } = cookieScenario(platform, {
      header: false,
      cookie: COOKIE,
      csrf: { origins: [APP] },
    });

    it('ignores the Authorization header: a header token alone is 401 "No token", before Passport', async () => {
      const before = authenticate.mock.calls.length;
      const res = await http().get('/c').set('Authorization', `Bearer ${mint()}`);
      expectRefusal(res, 401, 'No token', NO_TOKEN, CHALLENGE);
      expect(authenticate.mock.calls.length).toBe(before);
    });

    it('reads the cookie; an Authorization header beside it is not a second method', async () => {
      const res = await http()
        .get('/c/me')
        .set('Authorization', `Bearer ${mint({ subject: 'header-user' })}`)
        .set('Cookie', `${COOKIE}=${mint({ subject: 'cookie-user' })}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ sub: 'cookie-user' });
    });
  });

  describe('by default (no tokenLocation)', () => {
    const { ctx } = realmScenario(
      platform,
      { audience: AUDIENCE },
      {},
      {
        controllers: [CookieRoutes],
      },
    );
    const http = () => request(ctx.app.getHttpServer());

    it('never reads a cookie', async () => {
      const token = ctx.realm.mint();
      expectRefusal(
        await http().get('/c').set('Cookie', `${COOKIE}=${token}; access_token=${token}`),
        401,
        'No token',
        NO_TOKEN,
        CHALLENGE,
      );
      // Nor does a cookie beside the header count as a second method.
      const res = await http()
        .post('/c')
        .set('Authorization', `Bearer ${token}`)
        .set('Cookie', `access_token=${ctx.realm.mint()}`);
      expect(res.status).toBe(201);
    });
  });
});

describe.each(GRAPHQL_DRIVERS)('tokens in a cookie over GraphQL on %s', (driver) => {
  let realm: VoxKeyTestRealm;
  let gql: GraphQLApp;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
    gql = await createGraphQLApp(
      driver,
      [
        VoxKeyModule.forRoot(
          realm.moduleOptions({ tokenLocation: { cookie: COOKIE, csrf: { origins: [APP] } } }),
        ),
        graphqlModule(driver),
      ],
      [PostsResolver],
    );
  });
  afterAll(async () => {
    await gql?.app.close();
    await realm?.close();
  });

  /** POSTs an operation (an unsafe method, whether query or mutation) with these headers. */
  async function post(query: string, headers: Record<string, string>): Promise<GraphQLResponse> {
    const res = await fetch(gql.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
  }
  const MUTATION = 'mutation { createPost(title: "x") { id } }';

  it('an operation with the cookie from another origin is refused (FORBIDDEN), before the token is verified', async () => {
    const before = authenticate.mock.calls.length;
    const token = realm.mint({ scope: 'write:posts' });
    const res = await post(MUTATION, { cookie: `${COOKIE}=${token}`, origin: EVIL });
    expect(res.body.data).toEqual({ createPost: null });
    expect(res.body.errors?.[0]).toMatchObject({
      message: 'Cross-site request refused',
      extensions: { code: 'FORBIDDEN', statusCode: 403, error: 'Forbidden' },
    });
    expect(res.body.errors?.[0].extensions).not.toHaveProperty('oauthError');
    expect(res.text).not.toContain(token);
    expect(authenticate.mock.calls.length).toBe(before);
  });

  it('from the allowed origin, the cookie token authenticates; @BearerToken() gives it', async () => {
    const token = realm.mint({ scope: 'write:posts' });
    const headers = { cookie: `${COOKIE}=${token}`, origin: APP };
    expect((await post(MUTATION, headers)).body).toEqual({ data: { createPost: { id: '2' } } });
    const same = await post(`{ sameToken(expected: "${token}") }`, headers);
    expect(same.body).toEqual({ data: { sameToken: true } });
  });

  it('a token in both the header and the cookie is BAD_REQUEST', async () => {
    const token = realm.mint();
    const res = await post('{ me }', {
      authorization: `Bearer ${token}`,
      cookie: `${COOKIE}=${token}`,
      origin: APP,
    });
    expect(res.body.errors?.[0].extensions).toMatchObject({
      code: 'BAD_REQUEST',
      oauthError: 'invalid_request',
    });
  });
});
