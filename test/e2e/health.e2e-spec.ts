import type { INestApplication } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  IntrospectionService,
  RedisStore,
  VoxKeyModule,
  type VoxKeyHealth,
  type VoxKeyKeySetHealth,
} from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { createApp, PLATFORMS } from '../support/app';
import { movableClock, skipTime } from '../support/clock';
import { readiness, untilHealth, voxkeyHealth } from '../support/health';
import { HealthController } from '../support/health-controller';
import { HttpStub, json, sleep } from '../support/http-stub';
import { describeWithRedis, RedisServer } from '../support/redis-server';
import { realmScenario } from '../support/realm-scenario';
import { CONTROLLERS } from '../support/routes';

const AUDIENCE = 'https://api.example.test';
const WITH_HEALTH = { controllers: [...CONTROLLERS, HealthController], imports: [TerminusModule] };
const PROBES = 100;

/** The key set's part of a realm's report, for a realm served by `realm`. */
const keySet = (
  realm: VoxKeyTestRealm,
  fields: Partial<VoxKeyKeySetHealth>,
): VoxKeyKeySetHealth => ({
  keys: 1,
  lastSuccessAt: expect.any(String),
  ageSeconds: expect.any(Number),
  stale: false,
  lastFetchFailed: false,
  lastError: null,
  coolingDown: true,
  url: `${realm.domain}/oauth2/${realm.realm}/oidc/jwks`,
  ...fields,
});

/** Calls the readiness route `count` times; returns the statuses seen. */
async function probe(app: INestApplication, count = PROBES): Promise<Set<number>> {
  const statuses = new Set<number>();
  for (let i = 0; i < count; i++) statuses.add((await readiness(app)).status);
  return statuses;
}

describe.each(PLATFORMS)('VoxKeyHealthIndicator in a Terminus 12 health check (%s)', (platform) => {
  describe('cold (prewarm off), then warm', () => {
    const { ctx, call } = realmScenario(platform, {}, { prewarm: 'off' }, WITH_HEALTH);

    it('cold: 503 from Terminus (not 500), the realm down with no keys, and no fetch', async () => {
      const res = await readiness(ctx.app);
      expect(res.status).toBe(503);
      const cold: VoxKeyHealth = {
        status: 'down',
        realms: {
          default: {
            status: 'down',
            keySet: keySet(ctx.realm, {
              keys: 0,
              lastSuccessAt: null,
              ageSeconds: null,
              coolingDown: false,
            }),
          },
        },
      };
      expect(res.body).toEqual({
        status: 'error',
        info: {},
        error: { voxkey: cold },
        details: { voxkey: cold },
      });
      expect(ctx.realm.jwksRequests).toBe(0);
    });

    it(`${PROBES} probes of a cold realm cause no JWKS request`, async () => {
      expect(await probe(ctx.app)).toEqual(new Set([503]));
      expect(ctx.realm.jwksRequests).toBe(0);
    });

    it('warm after the first request: 200, one key, last success and age; probes still fetch nothing', async () => {
      expect((await call(ctx.realm.mint())).status).toBe(200);
      expect(ctx.realm.jwksRequests).toBe(1);
      const res = await readiness(ctx.app);
      expect(res.status).toBe(200);
      const warm = {
        status: 'up',
        realms: { default: { status: 'up', keySet: keySet(ctx.realm, {}) } },
      };
      expect(res.body).toEqual({
        status: 'ok',
        info: { voxkey: warm },
        error: {},
        details: { voxkey: warm },
      });
      const { lastSuccessAt } = res.body.info.voxkey.realms.default.keySet;
      expect(new Date(lastSuccessAt).toISOString()).toBe(lastSuccessAt);

      expect(await probe(ctx.app)).toEqual(new Set([200]));
      expect(ctx.realm.jwksRequests).toBe(1);
    });
  });

  describe('refresh failing with stale keys', () => {
    movableClock();
    const { ctx, call } = realmScenario(
      platform,
      {},
      { jwks: { cacheMaxAgeMs: 1_000, cooldownMs: 0 } },
      WITH_HEALTH,
    );

    it('stays up (stale keys still verify tokens), says the last fetch failed and why, and recovers', async () => {
      await untilHealth(ctx.app, (health) => health.status === 'up'); // the pre-warm
      ctx.realm.jwksAvailable = false;
      skipTime(1_100);
      // Old, but no request has tried to refresh them yet.
      expect((await voxkeyHealth(ctx.app)).realms?.default.keySet).toEqual(
        keySet(ctx.realm, { stale: true, coolingDown: false }),
      );
      const token = ctx.realm.mint();
      expect((await call(token)).status).toBe(200); // starts a background refresh, which fails
      const failing = await untilHealth(
        ctx.app,
        (health) => health.realms?.default.keySet?.lastFetchFailed === true,
      );
      expect(failing).toEqual({
        status: 'up',
        realms: {
          default: {
            status: 'up',
            keySet: keySet(ctx.realm, {
              stale: true,
              lastFetchFailed: true,
              lastError: 'http_error',
              coolingDown: false,
            }),
          },
        },
      });
      const res = await readiness(ctx.app);
      expect(res.status).toBe(200);
      expect(res.body.info.voxkey.realms.default.keySet.lastError).toBe('http_error');
      expect((await call(token)).status).toBe(200);

      ctx.realm.jwksAvailable = true;
      expect((await call(token)).status).toBe(200); // refreshes again
      const recovered = await untilHealth(
        ctx.app,
        (health) => health.realms?.default.keySet?.lastFetchFailed === false,
      );
      expect(recovered.realms?.default.keySet).toEqual(keySet(ctx.realm, { coolingDown: false }));
    });
  });
});

describe('VoxKeyHealthIndicator with several realms, one of them down (H-06)', () => {
  let up: VoxKeyTestRealm;
  let down: VoxKeyTestRealm;
  let app: INestApplication;
  beforeAll(async () => {
    [up, down] = await Promise.all([VoxKeyTestRealm.start(), VoxKeyTestRealm.start()]);
    down.jwksAvailable = false;
    app = await createApp(
      'express',
      [
        VoxKeyModule.forRoot({
          domain: up.domain,
          realms: [
            { id: 'acme', realm: up.realm, audience: `${AUDIENCE}/acme` },
            {
              id: 'globex',
              realm: down.realm,
              audience: `${AUDIENCE}/globex`,
              domain: down.domain,
            },
          ],
        }),
        TerminusModule,
      ],
      [HealthController],
    );
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all([up?.close(), down?.close()]);
  });

  it('stays up while another realm can verify, and names the realm whose keys could not be loaded', async () => {
    const health = await untilHealth(
      app,
      (report) =>
        report.realms?.acme.keySet?.keys === 1 &&
        report.realms.globex.keySet?.lastFetchFailed === true,
    );
    // One tenant's broken key set must not take every instance out of rotation.
    expect(health).toEqual({
      status: 'up',
      realms: {
        acme: { status: 'up', keySet: keySet(up, {}) },
        globex: {
          status: 'down',
          keySet: keySet(down, {
            keys: 0,
            lastSuccessAt: null,
            ageSeconds: null,
            lastFetchFailed: true,
            lastError: 'http_error',
            coolingDown: expect.any(Boolean),
          }),
        },
      },
    });
    const res = await readiness(app);
    expect(res.status).toBe(200);
    expect(res.body.details.voxkey.realms.globex.status).toBe('down');
  });
});

describe('VoxKeyHealthIndicator and the introspection endpoint', () => {
  const realmId = randomUUID();
  const SECRET = 'health-client-secret-value';
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  let stub: HttpStub;
  let app: INestApplication;
  let introspection: 'active' | 'server_error' | 'reset' = 'active';
  const introspected: string[] = [];

  beforeAll(async () => {
    stub = await HttpStub.start((req, res) => {
      if (req.url === `/oauth2/${realmId}/oidc/jwks`) return json(res, 200, { keys: [jwk] });
      if (req.url === `/oauth2/${realmId}/introspect`) {
        introspected.push(req.url);
        if (introspection === 'reset') return req.socket.destroy();
        if (introspection === 'server_error') return json(res, 500, { error: 'server_error' });
        return json(res, 200, { active: false });
      }
      res.writeHead(404).end();
    });
    app = await createApp(
      'express',
      [
        VoxKeyModule.forRoot({
          domain: stub.origin,
          realm: realmId,
          audience: AUDIENCE,
          clientId: 'health-api',
          clientSecret: SECRET,
          introspection: { inactiveCacheTtlMs: 0 },
        }),
        TerminusModule,
      ],
      [HealthController],
    );
    await untilHealth(app, (health) => health.status === 'up');
  });
  afterAll(async () => {
    await app?.close();
    await stub?.close();
  });

  const introspect = (token: string) => app.get(IntrospectionService).introspect(token);
  const introspectionHealth = async () => (await voxkeyHealth(app)).realms?.default.introspection;

  it("is 'unknown' before any call, and probes never call the endpoint", async () => {
    expect(await introspectionHealth()).toEqual({
      status: 'unknown',
      lastCallAt: null,
      lastError: null,
    });
    expect(await probe(app)).toEqual(new Set([200]));
    expect(introspected).toEqual([]);
  });

  it("is 'up' after an answer, 'down' with the error code after a failure, without failing readiness", async () => {
    await introspect('opaque-token-1');
    expect(await introspectionHealth()).toEqual({
      status: 'up',
      lastCallAt: expect.any(String),
      lastError: null,
    });

    introspection = 'server_error';
    await expect(introspect('opaque-token-2')).rejects.toThrow();
    expect(await introspectionHealth()).toEqual({
      status: 'down',
      lastCallAt: expect.any(String),
      lastError: 'server_error',
    });
    const res = await readiness(app);
    expect(res.status).toBe(200);
    expect(res.body.info.voxkey.status).toBe('up');
    expect(res.body.info.voxkey.realms.default.introspection.status).toBe('down');

    introspection = 'reset';
    await expect(introspect('opaque-token-3')).rejects.toThrow();
    expect((await introspectionHealth())?.lastError).toBe('network_error');
    expect(introspected).toHaveLength(3);

    introspection = 'active';
    await introspect('opaque-token-4');
    expect((await introspectionHealth())?.status).toBe('up');
  });

  it('holds no token, client id, client secret or query string (H-04)', async () => {
    const text = JSON.stringify((await readiness(app)).body);
    for (const secret of [SECRET, 'health-api', 'opaque-token', '?']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain(`${stub.origin}/oauth2/${realmId}/oidc/jwks`);
  });
});

describeWithRedis('VoxKeyHealthIndicator and a shared store (real Redis)', () => {
  let redis: RedisServer;
  let realm: VoxKeyTestRealm;
  let app: INestApplication;
  beforeAll(async () => {
    redis = await RedisServer.start();
    realm = await VoxKeyTestRealm.start();
    app = await createApp(
      'express',
      [
        VoxKeyModule.forRoot(realm.moduleOptions({ store: new RedisStore({ url: redis.url }) })),
        TerminusModule,
      ],
      [...CONTROLLERS, HealthController],
    );
    await untilHealth(app, (health) => health.status === 'up');
  });
  afterAll(async () => {
    await app?.close();
    await realm?.close();
    await redis?.stop();
  });
  const call = (token: string) =>
    request(app.getHttpServer()).get('/open').set('Authorization', `Bearer ${token}`);

  it('reports the store up, then down once it stopped answering (readiness stays up: requests are served from in-process state), then up again', async () => {
    expect((await voxkeyHealth(app)).store).toEqual({ status: 'up', shared: true });
    expect((await call(realm.mint())).status).toBe(200);

    await redis.kill();
    // A new token is looked up in the shared deny list: the store's failure shows.
    expect((await call(realm.mint())).status).toBe(200);
    const down = await voxkeyHealth(app);
    expect(down).toEqual({
      status: 'up',
      realms: { default: { status: 'up', keySet: keySet(realm, {}) } },
      store: { status: 'down', shared: true },
    });
    const res = await readiness(app);
    expect(res.status).toBe(200);
    expect(res.body.info.voxkey.store).toEqual({ status: 'down', shared: true });

    await redis.restart();
    await sleep(1_100); // the store is tried again once a second
    expect((await call(realm.mint())).status).toBe(200);
    expect((await voxkeyHealth(app)).store).toEqual({ status: 'up', shared: true });
  });
});
