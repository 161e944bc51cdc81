/**
 * The catalogue, continued: faults of the realm's endpoints (JWKS, introspection, revocation,
 * token) and resource exhaustion. Each case states what the API answers and why; the detailed
 * suites are test/e2e/jwks, introspection, m2m and fast-path. Every answer to a request is
 * checked for no 2xx on a bad input, no 500, no stack trace and no token or secret.
 */
import { type INestApplication, Logger } from '@nestjs/common';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import request from 'supertest';
import {
  RevocationService,
  VoxKeyModule,
  type VoxKeyModuleOptions,
  VoxKeyOAuthError,
} from '../../lib/index';
import { signJws } from '../../lib/testing/index';
import { CONTROLLERS } from '../support/routes';
import { createApp } from '../support/app';
import { CaptureLogger } from '../support/capture-logger';
import { HttpStub, json } from '../support/http-stub';
import { API_CLIENT, JWT_RESOURCE, M2M_CLIENT, OidcRealm } from '../support/oidc-realm';
import { realmScenario } from '../support/realm-scenario';
import { buildServices, closeServices } from '../support/services';

const AUDIENCE = 'https://api.example.test/v1';
const now = () => Math.floor(Date.now() / 1000);

function expectSafe(res: { status: number; text: string }, secrets: string[]): void {
  expect(res.status).not.toBe(500);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.text).not.toMatch(/\bat .+:\d+:\d+|Error:/);
  for (const secret of secrets)
    for (const part of secret.split('.')) expect(res.text).not.toContain(part);
}

describe('JWKS faults: the key set cannot be had → 503 with Retry-After, never 500 (RFC 9110 §15.6.4)', () => {
  let stub: HttpStub;
  let app: INestApplication;
  const realmId = randomUUID();
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...key.publicKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig' };
  const token = (kid: string) =>
    signJws(
      { alg: 'RS256', kid },
      { iss: `${stub.origin}/oauth2/${realmId}`, aud: AUDIENCE, exp: now() + 60 },
      key.privateKey,
      'RS256',
    );

  beforeAll(async () => {
    stub = await HttpStub.start();
    const options: VoxKeyModuleOptions = {
      domain: stub.origin,
      realm: realmId,
      audience: AUDIENCE,
      jwks: { cooldownMs: 0, timeoutMs: 300 },
    };
    app = await createApp('express', [VoxKeyModule.forRoot(options)], CONTROLLERS);
  });
  afterAll(async () => {
    await app?.close();
    await stub?.close();
  });

  it.each([
    ['slow endpoint (timeout bound 300 ms)', (res: ServerResponse) => void res],
    ['5xx', (res: ServerResponse) => json(res, 502, { error: 'bad_gateway' })],
    [
      'an HTML page',
      (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'),
    ],
    ['JSON that is not a key set', (res: ServerResponse) => json(res, 200, { keys: 'nope' })],
    [
      'an endless body (aborted at the size cap)',
      (res: ServerResponse) => {
        res.writeHead(200);
        const timer = setInterval(() => res.write('x'.repeat(65_536)), 2);
        res.on('close', () => clearInterval(timer));
      },
    ],
    [
      'a redirect (not followed)',
      (res: ServerResponse) => res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end(),
    ],
  ])(
    '%s → 503, then the next good answer → 200 (failures are not cached)',
    async (_name, fault) => {
      const kid = randomUUID();
      stub.handler = (_req, res) => fault(res);
      const t = token(kid);
      const res = await request(app.getHttpServer())
        .get('/open')
        .set('Authorization', `Bearer ${t}`);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expectSafe(res, [t]);
      stub.serveJson({ keys: [{ ...jwk, kid }] });
      expect(
        (await request(app.getHttpServer()).get('/open').set('Authorization', `Bearer ${t}`))
          .status,
      ).toBe(200);
    },
  );

  it('__proto__ members in the key set do not pollute prototypes', async () => {
    const kid = randomUUID();
    stub.handler = (_req, res) =>
      res
        .writeHead(200)
        .end(
          JSON.stringify({ keys: [{ ...jwk, kid }] }).replace('{', '{"__proto__":{"polluted":1},'),
        );
    expect(
      (
        await request(app.getHttpServer())
          .get('/open')
          .set('Authorization', `Bearer ${token(kid)}`)
      ).status,
    ).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('introspection, revocation and M2M faults', () => {
  let realm: OidcRealm;
  const logger = new CaptureLogger();
  beforeAll(async () => {
    Logger.overrideLogger(logger);
    realm = await OidcRealm.start();
  });
  afterEach(async () => {
    realm.reset();
    await closeServices();
  });
  afterAll(async () => {
    Logger.overrideLogger(false);
    await realm?.close();
  });
  const services = (extra: Record<string, unknown> = {}) =>
    buildServices(
      realm.moduleOptions({
        requestTimeoutMs: 300,
        m2m: { ...M2M_CLIENT, resource: JWT_RESOURCE, maxRetries: 1 },
        ...extra,
      }) as never,
      logger,
    );

  it.each([
    [
      'active as the string "true" (RFC 7662 §2.2: a boolean)',
      { active: 'true', aud: JWT_RESOURCE },
    ],
    ['active without aud (cannot be for this API)', { active: true }],
    ['active for another audience (RFC 8707)', { active: true, aud: 'https://other.example.test' }],
    [
      'active from another realm',
      { active: true, aud: JWT_RESOURCE, iss: 'http://127.0.0.1:1/oauth2/x' },
    ],
  ])('a malformed or foreign introspection answer is never active: %s', async (_name, body) => {
    realm.intercept.introspect = (_req, res) => (json(res, 200, body), true);
    expect(await (await services()).introspection.isActive('t')).toBe(false);
  });

  it('our own credentials rejected by the realm are a server-side error (invalid_client, not retryable), not a bad token', async () => {
    const wrongSecret = await services({ clientSecret: 'wrong' });
    const error = await wrongSecret.introspection.introspect('t').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VoxKeyOAuthError);
    expect(error).toMatchObject({ error: 'invalid_client', retryable: false });
    expect((error as Error).message).not.toContain('wrong');
  });

  it('revocation answered 503 with Retry-After is reported as not revoked (RFC 7009 §2.2.1)', async () => {
    realm.intercept.revoke = (_req, res) => (
      json(res, 503, { error: 'temporarily_unavailable' }, { 'retry-after': '9' }),
      true
    );
    const s = await services();
    const token = await realm.issueToken();
    await expect(s.revocation.revoke(token)).rejects.toMatchObject({
      retryable: true,
      retryAfter: 9,
    });
    expect(await s.revoked.isRevoked(token, 'default')).toBe(false);
  });

  it.each([
    ['a token endpoint error', (res: ServerResponse) => json(res, 400, { error: 'invalid_scope' })],
    [
      'a success without access_token',
      (res: ServerResponse) => json(res, 200, { token_type: 'Bearer', expires_in: 60 }),
    ],
    ['a success that is not JSON', (res: ServerResponse) => res.writeHead(200).end('ok')],
  ])('M2M: %s caches nothing', async (_name, fault) => {
    const s = await services();
    realm.intercept.token = (_req, res) => (fault(res), true);
    await expect(s.m2m.getToken()).rejects.toBeInstanceOf(VoxKeyOAuthError);
    realm.reset();
    const before = realm.counts.token;
    await expect(s.m2m.getToken()).resolves.toEqual(expect.any(String));
    expect(realm.counts.token - before).toBe(1);
  });

  it.each(['/relative', 'https://api.example.test/v1#fragment', 'api.example.test'])(
    'M2M: resource %j is refused before anything is sent (RFC 8707 §2)',
    async (resource) => {
      const before = realm.counts.token;
      await expect((await services()).m2m.getToken({ resource })).rejects.toMatchObject({
        code: 'invalid_resource',
      });
      expect(realm.counts.token).toBe(before);
    },
  );

  it('@RequireActiveToken with the introspection endpoint down → 503, never 200 or 500', async () => {
    const { Controller, Get } = await import('@nestjs/common');
    const { RequireActiveToken } = await import('../../lib/index');
    @Controller()
    class Live {
      @RequireActiveToken() @Get('live') live() {
        return { ok: true };
      }
    }
    const app = await createApp(
      'express',
      [VoxKeyModule.forRoot(realm.moduleOptions({ requestTimeoutMs: 300 }) as never)],
      [Live],
    );
    try {
      const token = await realm.issueToken();
      realm.intercept.introspect = () => true; // hangs
      const res = await request(app.getHttpServer())
        .get('/live')
        .set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(503);
      expectSafe(res, [token, API_CLIENT.clientSecret]);
      realm.reset();
      await app.get(RevocationService).revoke(token);
      const revoked = await request(app.getHttpServer())
        .get('/live')
        .set('Authorization', `Bearer ${token}`);
      expect(revoked.status).toBe(401);
    } finally {
      await app.close();
    }
  });
  it('log hygiene: no client secret or Authorization value in any log line of this suite', () => {
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const secret of [API_CLIENT.clientSecret, M2M_CLIENT.clientSecret, 'wrong', 'Basic ']) {
      expect(logger.lines.filter((line) => line.includes(secret))).toEqual([]);
    }
    // No JWT (nor its base64url JSON header) either.
    expect(logger.lines.filter((line) => /eyJ[\w-]{10,}/.test(line))).toEqual([]);
  });
});

describe('ECDSA signatures against an ES256 realm', () => {
  const { ctx, call } = realmScenario(
    'express',
    { algorithm: 'ES256', audience: AUDIENCE },
    { algorithms: ['ES256'] },
  );
  const forged = (signature: Buffer) => {
    const [h, p] = ctx.realm.mint().split('.');
    return `${h}.${p}.${signature.toString('base64url')}`;
  };

  it('a genuine ES256 token passes (so the cases below reach the ECDSA check)', async () => {
    expect((await call(ctx.realm.mint())).status).toBe(200);
  });

  it.each([
    ['all-zero r and s (CVE-2022-21449)', Buffer.alloc(64)],
    [
      'a DER-encoded signature instead of R || S (RFC 7518 §3.4)',
      Buffer.from(
        '3044022001020304050607080910111213141516171819202122232425262728293031320220' +
          '11'.repeat(32),
        'hex',
      ),
    ],
    [
      'r and s of n, the curve order (out of range)',
      Buffer.from(
        'FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551'.repeat(2),
        'hex',
      ),
    ],
  ])('%s → 401 invalid_token, signature invalid', async (_name, signature) => {
    const res = await call(forged(signature));
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/signature is invalid|malformed/);
    expectSafe(res, []);
  });
});

describe('a token without kid', () => {
  const { ctx, call } = realmScenario(
    'express',
    { audience: AUDIENCE },
    { jwks: { cooldownMs: 0 } },
  );

  it('a token without kid: verified when the realm has one key, refused (401) when it has several (RFC 7515 §4.1.4)', async () => {
    const single = ctx.realm.mint({ header: { kid: undefined } });
    expect((await call(single)).status).toBe(200);
    ctx.realm.rotateKeys(); // two keys published now
    const ambiguous = ctx.realm.mint({ header: { kid: undefined } });
    await call(ctx.realm.mint()); // the new kid makes the store fetch the two-key set
    const res = await call(ambiguous);
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('The access token signing key is unknown');
    expectSafe(res, [ambiguous]);
  });
});

describe('resource exhaustion', () => {
  const { ctx, call } = realmScenario(
    'express',
    { audience: AUDIENCE },
    { jwks: { cooldownMs: 30_000 } },
  );

  it('a very large but legal token (over 7 KB) is accepted; one over the 8,192-character cap is refused', async () => {
    const legal = ctx.realm.mint({ claims: { blob: 'x'.repeat(5_300) } });
    expect(legal.length).toBeGreaterThan(7_000);
    expect(legal.length).toBeLessThanOrEqual(8_192);
    expect((await call(legal)).status).toBe(200);
    const oversized = ctx.realm.mint({ claims: { blob: 'x'.repeat(6_500) } });
    const res = await call(oversized);
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('The access token is too large');
    expectSafe(res, [oversized]);
  });

  it('a flood of 2,000 random kids causes no JWKS fetch within the cool-down while valid traffic passes', async () => {
    const valid = ctx.realm.mint();
    expect((await call(valid)).status).toBe(200);
    const before = ctx.realm.jwksRequests;
    for (let batch = 0; batch < 4; batch++) {
      const statuses = await Promise.all(
        Array.from(
          { length: 500 },
          async () => (await call(ctx.realm.mint({ header: { kid: randomUUID() } }))).status,
        ),
      );
      expect(new Set(statuses)).toEqual(new Set([401]));
      expect((await call(valid)).status).toBe(200);
    }
    expect(ctx.realm.jwksRequests - before).toBe(0);
  }, 60_000);
});
