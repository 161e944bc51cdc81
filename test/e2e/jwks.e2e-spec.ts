import type { INestApplication } from '@nestjs/common';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import request from 'supertest';
import { type VoxKeyModuleOptions, VoxKeyModule } from '../../lib/index';
import { signJws } from '../../lib/testing/index';
import { createApp, PLATFORMS, type Platform } from '../support/app';
import { movableClock, skipTime } from '../support/clock';
import { HttpStub, sleep } from '../support/http-stub';
import { realmScenario } from '../support/realm-scenario';
import { CONTROLLERS } from '../support/routes';
import { expectRefusal } from '../support/expect-refusal';

const AUDIENCE = 'https://api.example.test/v1';
const now = () => Math.floor(Date.now() / 1000);

/** A key of our own, published by a stub JWKS server that plays the realm. */
function ownKey(kid: string, bits = 2048, extra: Record<string, unknown> = {}) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    kid,
    privateKey,
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig', ...extra },
  };
}

function stubScenario(platform: Platform, options: Partial<VoxKeyModuleOptions> = {}) {
  const ctx = {} as { stub: HttpStub; app: INestApplication; realmId: string; issuer: string };
  beforeAll(async () => {
    ctx.stub = await HttpStub.start();
    ctx.realmId = randomUUID();
    ctx.issuer = `${ctx.stub.origin}/oauth2/${ctx.realmId}`;
    ctx.app = await createApp(
      platform,
      [
        VoxKeyModule.forRoot({
          domain: ctx.stub.origin,
          realm: ctx.realmId,
          audience: AUDIENCE,
          ...options,
        }),
      ],
      CONTROLLERS,
    );
  });
  afterAll(async () => {
    await ctx.app?.close();
    await ctx.stub?.close();
  });
  const token = (
    key: { kid: string; privateKey: Parameters<typeof signJws>[2] },
    kid: string = key.kid,
  ) =>
    signJws(
      { alg: 'RS256', typ: 'at+jwt', kid },
      { iss: ctx.issuer, aud: AUDIENCE, exp: now() + 60 },
      key.privateKey,
      'RS256',
    );
  const call = (jwt: string) =>
    request(ctx.app.getHttpServer()).get('/open').set('Authorization', `Bearer ${jwt}`);
  return { ctx, token, call };
}

describe.each(PLATFORMS)('JWKS handling on %s', (platform) => {
  describe('key rotation (cool-down 0)', () => {
    const { ctx, call } = realmScenario(
      platform,
      { audience: AUDIENCE },
      { jwks: { cooldownMs: 0 } },
    );

    it('a new kid causes exactly one JWKS request, shared by concurrent requests', async () => {
      expect((await call(ctx.realm.mint())).status).toBe(200);
      expect(ctx.realm.jwksRequests).toBe(1);
      ctx.realm.rotateKeys();
      const token = ctx.realm.mint();
      const results = await Promise.all(Array.from({ length: 30 }, () => call(token)));
      expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
      expect(ctx.realm.jwksRequests).toBe(2);
    });

    it('keys still published keep working without a fetch', async () => {
      const before = ctx.realm.jwksRequests;
      const oldKid = ctx.realm.jwks.keys[0].kid as string;
      expect((await call(ctx.realm.mint({ kid: oldKid }))).status).toBe(200);
      expect(ctx.realm.jwksRequests).toBe(before);
    });

    it('a key withdrawn from the JWKS stops working once the set is refetched', async () => {
      const retiredKid = ctx.realm.currentKid;
      ctx.realm.rotateKeys({ keepPrevious: false });
      expect((await call(ctx.realm.mint())).status).toBe(200);
      const res = await call(ctx.realm.mint({ kid: retiredKid }));
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('The access token signing key is unknown');
    });
  });

  describe('cool-down on unknown kids (default 30 s)', () => {
    const { ctx, call } = realmScenario(platform, { audience: AUDIENCE });

    it('concurrent cold-start requests share one JWKS request', async () => {
      const token = ctx.realm.mint();
      const results = await Promise.all(Array.from({ length: 20 }, () => call(token)));
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(ctx.realm.jwksRequests).toBe(1);
    });

    it('unknown kids within the cool-down are refused without refetching', async () => {
      for (let i = 0; i < 20; i++) {
        const res = await call(ctx.realm.mint({ header: { kid: `random-${i}` } }));
        expect(res.status).toBe(401);
      }
      ctx.realm.rotateKeys();
      expect((await call(ctx.realm.mint())).status).toBe(401);
      expect(ctx.realm.jwksRequests).toBe(1);
    });
  });

  describe('JWKS endpoint down after warm-up', () => {
    movableClock();
    const { ctx, call } = realmScenario(
      platform,
      { audience: AUDIENCE },
      { jwks: { cooldownMs: 0, cacheMaxAgeMs: 1000 } },
    );

    it('keys already fetched keep working; a kid that needs a fetch gets 503, never 500', async () => {
      const token = ctx.realm.mint();
      expect((await call(token)).status).toBe(200);
      ctx.realm.jwksAvailable = false;
      expect((await call(token)).status).toBe(200);

      const unknown = ctx.realm.mint({ header: { kid: 'not-yet-fetched' } });
      const res = await call(unknown);
      expectRefusal(
        res,
        503,
        'Service Unavailable',
        'The access token cannot be validated right now; try again later',
      );
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.text).not.toContain(unknown.split('.')[1]);
    });

    it('after the cache lifetime the stale keys still work while refreshes fail', async () => {
      const before = ctx.realm.jwksRequests;
      skipTime(1100);
      expect((await call(ctx.realm.mint())).status).toBe(200);
      await sleep(50); // the background refresh is a real request
      expect(ctx.realm.jwksRequests).toBeGreaterThan(before);
    });

    it('when the endpoint returns, new keys are fetched again', async () => {
      ctx.realm.jwksAvailable = true;
      ctx.realm.rotateKeys();
      expect((await call(ctx.realm.mint())).status).toBe(200);
    });
  });

  describe('JWKS endpoint down, within the retry back-off', () => {
    movableClock();
    const { ctx, call } = realmScenario(
      platform,
      { audience: AUDIENCE },
      { jwks: { cooldownMs: 2000 } },
    );
    it('an unknown kid gets 503 every time, not 401, while the endpoint fails', async () => {
      expect((await call(ctx.realm.mint())).status).toBe(200);
      ctx.realm.jwksAvailable = false;
      skipTime(2050);
      const statuses = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await call(ctx.realm.mint({ header: { kid: `new-${i}` } }))).status);
      expect(statuses).toEqual([503, 503, 503, 503]);
      expect((await call(ctx.realm.mint())).status).toBe(200);
    });
  });

  describe('JWKS endpoint down at start-up', () => {
    // Fetched by the first request, when the endpoint is already down (the pre-warm's own
    // failures are in prewarm.e2e-spec.ts).
    const { ctx, call } = realmScenario(
      platform,
      { audience: AUDIENCE },
      { jwks: { cooldownMs: 0 }, prewarm: 'off' },
    );
    it('answers 503 until the endpoint is back, then 200 (failures are not cached)', async () => {
      ctx.realm.jwksAvailable = false;
      expect((await call(ctx.realm.mint())).status).toBe(503);
      ctx.realm.jwksAvailable = true;
      expect((await call(ctx.realm.mint())).status).toBe(200);
    });
  });

  describe('faults of a misbehaving JWKS endpoint', () => {
    const { ctx, token, call } = stubScenario(platform, {
      jwks: { cooldownMs: 0, timeoutMs: 300 },
    });
    const good = ownKey('good');

    it.each([
      [
        'an HTML page',
        (s: HttpStub) =>
          (s.handler = (_q, r) =>
            r.writeHead(200, { 'content-type': 'text/html' }).end('<html>oops</html>')),
      ],
      ['JSON that is not a key set', (s: HttpStub) => s.serveJson({ hello: 'world' })],
      ['keys that is not a list', (s: HttpStub) => s.serveJson({ keys: { a: 1 } })],
      ['an empty key set', (s: HttpStub) => s.serveJson({ keys: [] })],
      ['HTTP 500', (s: HttpStub) => s.serveJson({ error: 'boom' }, 500)],
      [
        'a body over the size cap',
        (s: HttpStub) =>
          (s.handler = (_q, r) =>
            r
              .writeHead(200)
              .end(JSON.stringify({ keys: [good.jwk], pad: 'x'.repeat(300 * 1024) }))),
      ],
      [
        'an endless body',
        (s: HttpStub) =>
          (s.handler = (_q, r) => {
            r.writeHead(200, { 'content-type': 'application/json' });
            const timer = setInterval(() => r.write('x'.repeat(64 * 1024)), 5);
            r.on('close', () => clearInterval(timer));
          }),
      ],
      ['a slow endpoint (times out)', (s: HttpStub) => (s.handler = () => undefined)],
    ])('%s gives 503, and the next good answer gives 200', async (name, fault) => {
      // A kid never seen before, so the request needs a fetch.
      const fresh = ownKey(`key-${name}`);
      fault(ctx.stub);
      expect((await call(token(fresh))).status).toBe(503);
      ctx.stub.serveJson({ keys: [fresh.jwk] });
      expect((await call(token(fresh))).status).toBe(200);
    });

    it('a redirect is not followed', async () => {
      const target = await HttpStub.start();
      target.serveJson({ keys: [good.jwk] });
      try {
        ctx.stub.handler = (_q, r) => r.writeHead(302, { location: `${target.origin}/jwks` }).end();
        const res = await call(token(ownKey('redirected')));
        expect(res.status).toBe(503);
        expect(target.requests).toEqual([]);
      } finally {
        await target.close();
      }
    });
  });

  describe('a JWKS endpoint that refuses connections', () => {
    const { ctx, token, call } = stubScenario(platform);
    it('gives 503', async () => {
      await ctx.stub.close();
      expect((await call(token(ownKey('any')))).status).toBe(503);
    });
  });

  describe('keys that are never used', () => {
    const { ctx, token, call } = stubScenario(platform, { jwks: { cooldownMs: 0 } });
    const good = ownKey('good');
    const enc = ownKey('enc', 2048, { use: 'enc' });
    const weak = ownKey('weak', 1024);
    const twin = ownKey('good');

    beforeAll(() => {
      const body = JSON.stringify({
        keys: [
          null,
          7,
          'text',
          ['array'],
          { kty: 'RSA', kid: 'broken' },
          { kty: 'oct', kid: 'oct', k: 'c2VjcmV0', alg: 'HS256' },
          enc.jwk,
          weak.jwk,
          good.jwk,
          twin.jwk,
        ],
      }).replace('{', '{"__proto__":{"polluted":true},');
      ctx.stub.handler = (_q, r) =>
        r.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });

    it('a good key among malformed entries still works, without prototype pollution', async () => {
      expect((await call(token(good))).status).toBe(200);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
    it.each([
      ['use: enc', () => enc],
      ['an RSA key under 2048 bits', () => weak],
    ])('a key with %s is not used', async (_name, key) => {
      const res = await call(token(key()));
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('The access token signing key is unknown');
    });
    it('a symmetric key is not used', async () => {
      expect((await call(token(good, 'oct'))).status).toBe(401);
    });
    it('of two keys with the same kid only the first is used', async () => {
      expect((await call(token(twin))).status).toBe(401);
    });
  });
});
