import { VoxKeyError, VoxKeyOAuthError } from '../../lib/index';
import { buildServices, closeServices, type Services } from '../support/services';
import { movableClock, skipTime } from '../support/clock';
import { json, sleep } from '../support/http-stub';
import {
  JWT_RESOURCE,
  M2M_CLIENT,
  ODD_CLIENT,
  OidcRealm,
  POST_CLIENT,
} from '../support/oidc-realm';
import { payloadOf } from '../support/token-forge';

describe('M2MTokenService against oidc-provider', () => {
  let realm: OidcRealm;
  let services: Services;
  const counted = () => realm.counts.token;

  beforeAll(async () => {
    realm = await OidcRealm.start();
  });
  beforeEach(async () => {
    realm.reset();
    services = await buildServices(
      realm.moduleOptions({
        requestTimeoutMs: 500,
        m2m: { ...M2M_CLIENT, scope: 'read:posts', resource: JWT_RESOURCE, maxRetries: 2 },
      }) as never,
    );
  });
  afterEach(closeServices);
  afterAll(async () => realm?.close());

  it('gets a JWT access token for the resource with the default scope', async () => {
    const response = await services.m2m.getTokenResponse();
    expect(response).toMatchObject({ tokenType: 'Bearer', scope: 'read:posts' });
    expect(response.expiresAt).toBeGreaterThan(Date.now() + 290_000);
    const claims = payloadOf(response.accessToken);
    expect(claims).toMatchObject({
      aud: JWT_RESOURCE,
      iss: realm.issuer,
      client_id: 'm2m-client',
      scope: 'read:posts',
    });
    const sent = new URLSearchParams(realm.tokenRequests.at(-1)!.body);
    expect(Object.fromEntries(sent)).toEqual({
      grant_type: 'client_credentials',
      scope: 'read:posts',
      resource: JWT_RESOURCE,
    });
  });

  it('50 concurrent getToken calls cause exactly one token request, and later calls hit the cache', async () => {
    const before = counted();
    const tokens = await Promise.all(
      Array.from({ length: 50 }, () => services.m2m.getToken({ scope: 'users:read users:write' })),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(counted() - before).toBe(1);
    await services.m2m.getToken({ scope: ['users:write', 'users:read'] });
    expect(counted() - before).toBe(1);
  });

  it('caches per scope set and resource', async () => {
    const before = counted();
    const a = await services.m2m.getToken({ scope: 'read:posts' });
    const b = await services.m2m.getToken({ scope: 'write:posts' });
    expect(a).not.toBe(b);
    expect(counted() - before).toBe(2);
  });

  it('forceRefresh fetches a new token', async () => {
    const first = await services.m2m.getToken();
    const before = counted();
    const second = await services.m2m.getToken({ forceRefresh: true });
    expect(second).not.toBe(first);
    expect(counted() - before).toBe(1);
    expect(await services.m2m.getToken()).toBe(second);
  });

  it('getAuthorizationHeader gives a Bearer header value', async () => {
    expect(await services.m2m.getAuthorizationHeader()).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  });

  describe('the refresh margin, with a movable clock', () => {
    movableClock();
    it('never hands out a token with less than the margin left, and refreshes ahead of it', async () => {
      realm.accessTokenTtl = 3;
      services = await buildServices(
        realm.moduleOptions({ m2m: { ...M2M_CLIENT, refreshMarginMs: 1000 } }) as never,
      );
      const before = counted();
      const first = await services.m2m.getToken();
      // More than twice the margin left: the cached token, nothing fetched.
      expect(await services.m2m.getToken()).toBe(first);
      expect(counted() - before).toBe(1);
      // Between one and two margins left: still the cached token, a refresh starts in the background.
      skipTime(1300);
      expect(await services.m2m.getToken()).toBe(first);
      await sleep(100); // the background refresh is a real request
      expect(counted() - before).toBe(2);
      const second = await services.m2m.getToken();
      expect(second).not.toBe(first);
      expect(counted() - before).toBe(2);
      // Under the margin: a new token is fetched before anything is returned.
      skipTime(2100);
      const third = await services.m2m.getToken();
      expect(third).not.toBe(second);
      expect(counted() - before).toBe(3);
    });
  });

  describe('token endpoint faults', () => {
    it('500 then 200: one retry succeeds', async () => {
      let calls = 0;
      realm.intercept.token = (_req, res) =>
        ++calls === 1 ? (json(res, 500, { error: 'server_error' }), true) : false;
      const before = counted();
      await expect(services.m2m.getToken()).resolves.toEqual(expect.any(String));
      expect(counted() - before).toBe(2);
    });

    it('429 with Retry-After is retried after the server-given delay', async () => {
      let calls = 0;
      const times: number[] = [];
      realm.intercept.token = (_req, res) => {
        times.push(Date.now());
        return ++calls === 1
          ? (json(res, 429, { error: 'slow_down' }, { 'retry-after': '1' }), true)
          : false;
      };
      const before = counted();
      await expect(services.m2m.getToken()).resolves.toEqual(expect.any(String));
      expect(counted() - before).toBe(2);
      expect(times[1] - times[0]).toBeGreaterThanOrEqual(950);
    });

    it('keeps failing: gives up after maxRetries with a retryable error', async () => {
      realm.intercept.token = (_req, res) => (
        json(res, 503, { error: 'temporarily_unavailable' }),
        true
      );
      const before = counted();
      const error = await services.m2m.getToken().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VoxKeyOAuthError);
      expect(error).toMatchObject({
        error: 'temporarily_unavailable',
        status: 503,
        retryable: true,
      });
      expect(counted() - before).toBe(3);
    });

    it('shutdown ends a retry wait at once, with the last error', async () => {
      realm.intercept.token = (_req, res) => (
        json(res, 503, { error: 'temporarily_unavailable' }, { 'retry-after': '20' }),
        true
      );
      const before = counted();
      const pending = services.m2m.getToken().catch((e: unknown) => e);
      await sleep(100);
      services.m2m.onApplicationShutdown();
      expect(await pending).toMatchObject({ error: 'temporarily_unavailable', retryable: true });
      expect(counted() - before).toBe(1);
    });

    it('a Retry-After beyond 30 s is not waited for', async () => {
      realm.intercept.token = (_req, res) => (
        json(res, 429, { error: 'slow_down' }, { 'retry-after': '120' }),
        true
      );
      const before = counted();
      await expect(services.m2m.getToken()).rejects.toMatchObject({ status: 429, retryAfter: 120 });
      expect(counted() - before).toBe(1);
    });

    it('a slow endpoint times out (and timeouts are retried)', async () => {
      realm.intercept.token = () => true; // never answers
      const before = counted();
      const error = await services.m2m.getToken().catch((e: unknown) => e);
      expect(error).toMatchObject({ error: 'timeout', status: 0, retryable: true });
      expect(counted() - before).toBe(3);
    });

    it.each([
      [
        'invalid_client (wrong secret)',
        { m2m: { clientId: M2M_CLIENT.clientId, clientSecret: 'wrong' } },
        {},
        'invalid_client',
        401,
      ],
      [
        'invalid_scope (scope not allowed for the client)',
        {},
        { scope: 'admin' },
        'invalid_scope',
        400,
      ],
      [
        'invalid_target (unknown resource)',
        {},
        { resource: 'https://unknown.example.test/' },
        'invalid_target',
        400,
      ],
    ])(
      '%s is not retried and surfaces the server error code',
      async (_name, moduleExtra, request, code, status) => {
        services = await buildServices(
          realm.moduleOptions({ m2m: { ...M2M_CLIENT }, ...moduleExtra }) as never,
        );
        const before = counted();
        const error = await services.m2m.getToken(request).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(VoxKeyOAuthError);
        expect(error).toMatchObject({ error: code, status, retryable: false });
        expect(counted() - before).toBe(1);
        expect((error as Error).message).not.toContain('wrong');
        expect((error as Error).message).not.toContain(M2M_CLIENT.clientSecret);
      },
    );

    it.each([
      ['no access_token', { token_type: 'Bearer', expires_in: 60 }],
      ['a non-Bearer token type', { access_token: 'abc', token_type: 'DPoP', expires_in: 60 }],
      ['a negative lifetime', { access_token: 'abc', token_type: 'Bearer', expires_in: -1 }],
      ['a JSON array', [1, 2]],
    ])('a malformed success answer (%s) is an error and nothing is cached', async (_name, body) => {
      realm.intercept.token = (_req, res) => (json(res, 200, body), true);
      await expect(services.m2m.getToken()).rejects.toMatchObject({
        error: 'invalid_response',
        retryable: false,
      });
      delete realm.intercept.token;
      const before = counted();
      const token = await services.m2m.getToken();
      expect(token.split('.')).toHaveLength(3);
      expect(counted() - before).toBe(1);
    });

    it('an HTML error page is an http_error, retryable for 502', async () => {
      realm.intercept.token = (_req, res) => (
        res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>'),
        true
      );
      await expect(services.m2m.getToken()).rejects.toMatchObject({
        error: 'http_error',
        status: 502,
        retryable: true,
      });
    });

    it('a redirect is not followed', async () => {
      realm.intercept.token = (_req, res) => (
        res.writeHead(307, { location: `${realm.issuer}/token` }).end(),
        true
      );
      const before = counted();
      await expect(services.m2m.getToken()).rejects.toMatchObject({
        error: 'http_error',
        status: 307,
        retryable: false,
      });
      expect(counted() - before).toBe(1);
    });
  });

  describe('requests refused before sending', () => {
    it.each(['/relative', 'api.example.test', 'https://api.example.test/v1#frag', ''])(
      'resource %j',
      async (resource) => {
        const before = counted();
        const error = await services.m2m.getToken({ resource }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(VoxKeyError);
        expect(error).toMatchObject({ code: 'invalid_resource' });
        expect(counted() - before).toBe(0);
      },
    );
    it('a scope with a quote', async () => {
      await expect(services.m2m.getToken({ scope: 'read"posts' })).rejects.toMatchObject({
        code: 'invalid_scope',
      });
    });
    it('no client credentials configured', async () => {
      services = await buildServices({
        domain: realm.domain,
        realm: realm.realm,
        audience: JWT_RESOURCE,
      });
      await expect(services.m2m.getToken()).rejects.toThrow(
        /'clientId' and 'clientSecret'.*required for M2M tokens/,
      );
    });
  });

  describe('client authentication (RFC 6749 §2.3.1)', () => {
    it('form-encodes id and secret with :, %, +, spaces, & and = before Basic', async () => {
      services = await buildServices(realm.moduleOptions({ m2m: { ...ODD_CLIENT } }) as never);
      await expect(services.m2m.getToken()).resolves.toEqual(expect.any(String));
      const sent = realm.tokenRequests.at(-1)!.authorization!;
      const decoded = Buffer.from(sent.replace('Basic ', ''), 'base64').toString('utf8');
      expect(decoded).toBe('odd%3Aclient%25%2B+%26%3D:p%40ss%3Aw%25rd%2B+%2F%3D%3F');
    });
    it('client_secret_post sends the credentials in the body', async () => {
      services = await buildServices(
        realm.moduleOptions({
          clientAuthMethod: 'client_secret_post',
          m2m: { ...POST_CLIENT },
        }) as never,
      );
      await expect(services.m2m.getToken()).resolves.toEqual(expect.any(String));
      const last = realm.tokenRequests.at(-1)!;
      expect(last.authorization).toBeUndefined();
      expect(new URLSearchParams(last.body).get('client_id')).toBe('post-client');
    });
  });

  it('the documented pattern: retry once with forceRefresh after a 401 from the downstream API', async () => {
    const rejected = new Set<string>([await services.m2m.getToken()]);
    // A downstream API that no longer accepts the token we cached.
    const downstream = async (authorization: string) =>
      rejected.has(authorization.slice(7)) ? 401 : 200;
    const callDownstream = async () => {
      let status = await downstream(await services.m2m.getAuthorizationHeader());
      if (status === 401)
        status = await downstream(
          await services.m2m.getAuthorizationHeader({ forceRefresh: true }),
        );
      return status;
    };
    const before = counted();
    expect(await callDownstream()).toBe(200);
    expect(counted() - before).toBe(1);
  });
});
