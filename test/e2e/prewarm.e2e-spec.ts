import type { INestApplication, LoggerService } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  VoxKeyJwksError,
  VoxKeyModule,
  type VoxKeyModuleOptions,
  type VoxKeyRealmOptions,
} from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { PLATFORMS, type Platform } from '../support/app';
import { CaptureLogger } from '../support/capture-logger';
import { readiness, untilHealth, voxkeyHealth } from '../support/health';
import { HealthController } from '../support/health-controller';
import { HttpStub, sleep } from '../support/http-stub';
import { CONTROLLERS } from '../support/routes';

const AUDIENCE = 'https://api.example.test';

/** Apps started here, closed after each test (also those whose start-up failed). */
const apps: INestApplication[] = [];
const realms: VoxKeyTestRealm[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(realms.splice(0).map((realm) => realm.close()));
});

async function startRealm(available = true): Promise<VoxKeyTestRealm> {
  const realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
  realm.jwksAvailable = available;
  realms.push(realm);
  return realm;
}

/** Boots an app with the routes and a Terminus readiness route; rejects as `listen()` does. */
async function boot(
  options: VoxKeyModuleOptions,
  platform: Platform = 'express',
  logger: LoggerService | false = false,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [VoxKeyModule.forRoot(options), TerminusModule],
    controllers: [...CONTROLLERS, HealthController],
  }).compile();
  const app = moduleRef.createNestApplication(
    platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
    { logger },
  );
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  if (platform === 'fastify') {
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  }
  return app;
}

const call = (app: INestApplication, token: string) =>
  request(app.getHttpServer()).get('/open').set('Authorization', `Bearer ${token}`);

describe.each(PLATFORMS)("prewarm: 'background' (the default) on %s", (platform) => {
  it('loads the key set without a request; the first request makes no JWKS fetch', async () => {
    const realm = await startRealm();
    const app = await boot(realm.moduleOptions(), platform);
    await untilHealth(app, (health) => health.status === 'up');
    expect(realm.jwksRequests).toBe(1);
    expect((await call(app, realm.mint())).status).toBe(200);
    expect(realm.jwksRequests).toBe(1);
  });

  it('with the realm unreachable: starts, answers 503 with Retry-After and is not ready until the keys arrive, then 200', async () => {
    const realm = await startRealm(false);
    const app = await boot(realm.moduleOptions(), platform);
    await untilHealth(app, (health) => health.realms?.default.keySet?.lastFetchFailed === true);

    const refused = await call(app, realm.mint());
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body.message).toBe(
      'The access token cannot be validated right now; try again later',
    );
    const notReady = await readiness(app);
    expect(notReady.status).toBe(503);
    expect(notReady.body.error.voxkey.realms.default.keySet).toMatchObject({
      keys: 0,
      lastError: 'http_error',
    });

    // No request needed: the pre-warm tries again by itself.
    realm.jwksAvailable = true;
    await untilHealth(app, (health) => health.status === 'up');
    const fetches = realm.jwksRequests;
    expect((await readiness(app)).status).toBe(200);
    expect((await call(app, realm.mint())).status).toBe(200);
    expect(realm.jwksRequests).toBe(fetches);
  });
});

describe.each(PLATFORMS)("prewarm: 'block' on %s", (platform) => {
  it('start-up waits for the key set: ready at once, and the first request makes no JWKS fetch (PW-01)', async () => {
    const realm = await startRealm();
    const app = await boot(realm.moduleOptions({ prewarm: 'block' }), platform);
    expect(realm.jwksRequests).toBe(1);
    expect((await voxkeyHealth(app)).status).toBe('up');
    expect((await call(app, realm.mint())).status).toBe(200);
    expect(realm.jwksRequests).toBe(1);
  });

  it('with the realm answering 503: start-up fails after retrying within prewarmTimeoutMs, naming the realm and the options', async () => {
    const realm = await startRealm(false);
    const failure = await boot(
      realm.moduleOptions({ prewarm: 'block', prewarmTimeoutMs: 1_800 }),
      platform,
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(VoxKeyJwksError);
    expect(failure).toMatchObject({ code: 'jwks_unavailable', reason: 'http_error' });
    expect((failure as Error).message).toBe(
      `VoxKeyModule: 'prewarm' is 'block' and the key set of realm 'default' from ${realm.endpoints.jwksUri} (http_error) was not loaded within 'prewarmTimeoutMs' (1800 ms); use 'background' to start without waiting`,
    );
    // The first attempt, and one more a second later.
    expect(realm.jwksRequests).toBe(2);
  });
});

describe("prewarm: 'block' (express)", () => {
  it('with a JWKS endpoint that never answers: start-up fails at prewarmTimeoutMs, not at the fetch timeout', async () => {
    const stub = await HttpStub.start(() => undefined);
    const uuid = randomUUID();
    try {
      const failure = await boot({
        domain: stub.origin,
        realm: uuid,
        audience: AUDIENCE,
        jwks: { timeoutMs: 30_000 },
        prewarm: 'block',
        prewarmTimeoutMs: 300,
      }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(VoxKeyJwksError);
      expect((failure as Error).message).toContain(
        `realm 'default' from ${stub.origin}/oauth2/${uuid}/oidc/jwks (no answer) was not loaded within 'prewarmTimeoutMs' (300 ms)`,
      );
      expect(stub.requests).toEqual([`GET /oauth2/${uuid}/oidc/jwks`]);
    } finally {
      await stub.close();
    }
  });

  it('with several realms, names the one that could not be loaded, and only it', async () => {
    const [up, down] = [await startRealm(), await startRealm(false)];
    const failure = await boot({
      domain: up.domain,
      realms: [
        { id: 'acme', realm: up.realm, audience: AUDIENCE },
        { id: 'globex', realm: down.realm, audience: AUDIENCE, domain: down.domain },
      ],
      prewarm: 'block',
      prewarmTimeoutMs: 300,
    }).catch((error: unknown) => error);
    expect((failure as Error).message).toContain(
      `the key set of realm 'globex' from ${down.endpoints.jwksUri} (http_error) was not loaded`,
    );
    expect((failure as Error).message).not.toContain("'acme'");
    expect(up.jwksRequests).toBe(1);
  });
});

describe('prewarm, other cases (express)', () => {
  it("'off': nothing is fetched before the first request (PW-05)", async () => {
    const realm = await startRealm();
    const app = await boot(realm.moduleOptions({ prewarm: 'off' }));
    await sleep(100); // time enough for a fetch on loopback, had one started
    expect(realm.jwksRequests).toBe(0);
    expect((await voxkeyHealth(app)).status).toBe('down');
    expect((await call(app, realm.mint())).status).toBe(200);
    expect(realm.jwksRequests).toBe(1);
  });

  it('an unknown kid right after the pre-warm causes no second fetch within the cool-down (PW-04)', async () => {
    const realm = await startRealm();
    const app = await boot(realm.moduleOptions());
    await untilHealth(app, (health) => health.status === 'up');
    expect((await call(app, realm.mint({ header: { kid: 'not-published' } }))).status).toBe(401);
    expect(realm.jwksRequests).toBe(1);
  });

  it('realms of realmsProvider are not pre-warmed; configured ones are', async () => {
    const [home, tenant] = [await startRealm(), await startRealm()];
    const provided: VoxKeyRealmOptions = {
      id: 'tenant',
      realm: tenant.realm,
      jwksUri: tenant.endpoints.jwksUri,
    };
    const app = await boot({
      domain: home.domain,
      audience: AUDIENCE,
      realms: [{ id: 'home', realm: home.realm }],
      realmsProvider: (uuid) => (uuid === tenant.realm ? provided : undefined),
    });
    await untilHealth(app, (health) => health.status === 'up');
    await sleep(100);
    expect([home.jwksRequests, tenant.jwksRequests]).toEqual([1, 0]);
  });

  it("'validation: introspection' fetches no key set", async () => {
    const realm = await startRealm();
    await boot(
      realm.moduleOptions({ validation: 'introspection', clientId: 'api', clientSecret: 's' }),
    );
    await sleep(100);
    expect(realm.jwksRequests).toBe(0);
  });

  it('background retries stop when the application closes', async () => {
    const realm = await startRealm(false);
    const app = await boot(realm.moduleOptions());
    await untilHealth(app, (health) => health.realms?.default.keySet?.lastFetchFailed === true);
    await app.close();
    const fetches = realm.jwksRequests;
    await sleep(1_200); // past the first retry, had it been left scheduled
    expect(realm.jwksRequests).toBe(fetches);
  });
});

describe('the start-up summary', () => {
  it('logs one line at log level: realm, issuer, JWKS URL, algorithms, store, contexts, resource, DPoP', async () => {
    const realm = await VoxKeyTestRealm.start({
      audience: [AUDIENCE, 'https://api.example.com/mcp'],
    });
    realms.push(realm);
    const logger = new CaptureLogger();
    const secrets = [
      'summary-client-secret',
      'summary-m2m-secret',
      'nonce-secret-0123456789abcdef-0123456789',
    ];
    await boot(
      realm.moduleOptions({
        clientId: 'summary-api',
        clientSecret: secrets[0],
        m2m: { clientId: 'summary-m2m', clientSecret: secrets[1] },
        algorithms: ['RS256', 'ES256'],
        resource: 'https://api.example.com/mcp',
        dpop: { nonce: { secrets: [secrets[2]] } },
        encryptionKey: Buffer.alloc(32, 7),
        contexts: { ws: false },
      }),
      'express',
      logger,
    );
    const lines = logger.lines.filter((line) => line.endsWith(' VoxKey'));
    expect(lines).toEqual([
      `log realm 'default' (issuer ${realm.issuer}, JWKS ${realm.endpoints.jwksUri}); validation jwt (RS256, ES256); store in-process; contexts http, graphql, rpc; resource https://api.example.com/mcp; DPoP allowed; prewarm background VoxKey`,
    ]);
    for (const secret of [...secrets, 'summary-api', 'summary-m2m', '?']) {
      expect(lines[0]).not.toContain(secret);
    }
  });
});
