import { Controller, Get, type INestApplication, Logger } from '@nestjs/common';
import { createClient } from 'redis';
import request from 'supertest';
import { RedisStore, Scopes, VoxKeyModule, type VoxKeyModuleOptions } from '../../lib/index';
import { createApp } from '../support/app';
import { CaptureLogger } from '../support/capture-logger';
import { movableClock, skipTime } from '../support/clock';
import { FleetWorker } from '../support/fleet';
import { sleep } from '../support/http-stub';
import { JWT_RESOURCE, M2M_CLIENT, OidcRealm, OPAQUE_RESOURCE } from '../support/oidc-realm';
import { describeWithRedis, RedisServer } from '../support/redis-server';
import { buildServices, closeServices } from '../support/services';

const KEY = Buffer.alloc(32, 42);

describeWithRedis('shared state on a real Redis', () => {
  let redis: RedisServer;
  let realm: OidcRealm;
  let inspector: ReturnType<typeof createClient>;
  const stores: RedisStore[] = [];
  const newStore = (prefix = 'voxkey:') => {
    const store = new RedisStore({ url: redis.url, prefix });
    stores.push(store);
    return store;
  };
  const instance = (extra: Record<string, unknown> = {}) =>
    buildServices(
      realm.moduleOptions({
        audience: [JWT_RESOURCE, OPAQUE_RESOURCE],
        m2m: { ...M2M_CLIENT, resource: JWT_RESOURCE },
        store: newStore(),
        encryptionKey: KEY,
        ...extra,
      }) as never,
    );
  /** Every key and string value in Redis. */
  const dump = async () => {
    const entries: string[] = [];
    for await (const keys of inspector.scanIterator({ COUNT: 100 })) {
      for (const key of keys) entries.push(key, String(await inspector.get(key)));
    }
    return entries.join('\n');
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    redis = await RedisServer.start();
    realm = await OidcRealm.start();
    inspector = createClient({ url: redis.url });
    inspector.on('error', () => undefined); // Redis is killed on purpose below
    await inspector.connect();
  });
  beforeEach(async () => {
    realm.reset();
    await inspector.flushAll();
  });
  afterEach(closeServices);
  afterAll(async () => {
    for (const store of stores) await store.close();
    await inspector?.close();
    await realm?.close();
    await redis?.stop();
  });

  describe('RedisStore', () => {
    it('gets, sets with a TTL, deletes and locks with SET NX PX, under its prefix', async () => {
      const store = newStore('test:');
      await store.set('a', '1', 10_000);
      expect(await store.get('a')).toBe('1');
      expect(await inspector.get('test:a')).toBe('1');
      expect(await inspector.pTTL('test:a')).toBeGreaterThan(9_000);
      expect(await store.setIfAbsent('lock', 'me', 200)).toBe(true);
      expect(await store.setIfAbsent('lock', 'you', 200)).toBe(false);
      await sleep(250);
      expect(await store.setIfAbsent('lock', 'you', 200)).toBe(true);
      await store.delete('a');
      expect(await store.get('a')).toBeUndefined();
    });

    it('deleteIfEquals releases a lock only for its holder (compare-and-delete in Lua)', async () => {
      const store = newStore('cad:');
      await store.setIfAbsent('lock', 'holder-a', 10_000);
      await store.deleteIfEquals('lock', 'holder-b');
      expect(await inspector.get('cad:lock')).toBe('holder-a');
      await store.deleteIfEquals('lock', 'holder-a');
      expect(await inspector.get('cad:lock')).toBeNull();
    });

    it('works with a node-redis client the application already has, and leaves it open', async () => {
      const client = createClient({ url: redis.url });
      await client.connect();
      const store = new RedisStore({ client, prefix: 'own:' });
      await store.set('k', 'v', 1000);
      expect(await client.get('own:k')).toBe('v');
      await store.close();
      expect(await client.get('own:k')).toBe('v');
      await client.close();
    });
  });

  describe('shared between instances', () => {
    it('an M2M token fetched by one instance is used by another', async () => {
      const [a, b] = await Promise.all([instance(), instance()]);
      const before = realm.counts.token;
      const token = await a.m2m.getToken();
      expect(await b.m2m.getToken()).toBe(token);
      expect(realm.counts.token - before).toBe(1);
    });

    it('introspection answers are shared, keyed by hash', async () => {
      const [a, b] = await Promise.all([instance(), instance()]);
      const token = await realm.issueToken({ resource: OPAQUE_RESOURCE });
      const before = realm.counts.introspect;
      expect(await a.introspection.isActive(token)).toBe(true);
      expect(await b.introspection.isActive(token)).toBe(true);
      expect(realm.counts.introspect - before).toBe(1);
    });

    describe('the one-second memo, with a movable clock', () => {
      movableClock();
      it('a revocation through one instance is honoured by the others within a second', async () => {
        const [a, b] = await Promise.all([instance(), instance()]);
        const token = await realm.issueToken();
        expect(await b.revoked.isRevoked(token, 'default')).toBe(false); // b now trusts "not revoked" for up to 1 s
        await a.revocation.revoke(token);
        skipTime(1_050);
        expect(await b.revoked.isRevoked(token, 'default')).toBe(true);
      });
    });

    it('a lock whose holder died expires, and the waiter then fetches the token', async () => {
      const services = await instance({
        requestTimeoutMs: 300,
        m2m: { ...M2M_CLIENT, resource: JWT_RESOURCE, maxRetries: 0 },
      });
      // A lock taken by an instance that died: it expires after its TTL.
      const locks: string[] = [];
      await services.m2m.getToken(); // learn the key names
      for await (const keys of inspector.scanIterator({ MATCH: 'voxkey:m2m:*' }))
        locks.push(...keys);
      await inspector.flushAll();
      await inspector.set(locks[0].replace('voxkey:m2m:', 'voxkey:m2m-lock:'), 'dead-instance', {
        PX: 400,
      });
      const fresh = await instance({
        requestTimeoutMs: 300,
        m2m: { ...M2M_CLIENT, resource: JWT_RESOURCE, maxRetries: 0 },
      });
      const before = realm.counts.token;
      await expect(fresh.m2m.getToken()).resolves.toEqual(expect.any(String));
      expect(realm.counts.token - before).toBe(1);
    });
  });

  describe('what is written to Redis', () => {
    it('with encryptionKey, no token (nor any of its parts) appears in keys or values', async () => {
      const services = await instance();
      const m2mToken = await services.m2m.getToken();
      const opaque = await realm.issueToken({ resource: OPAQUE_RESOURCE });
      await services.introspection.introspect(opaque);
      const jwt = await realm.issueToken();
      await services.revocation.revoke(jwt);
      const everything = await dump();
      expect(everything).toContain('m2m:');
      expect(everything).toContain('introspection:');
      expect(everything).toContain('revoked:');
      for (const token of [m2mToken, opaque, jwt]) {
        for (const part of token.split('.')) expect(everything).not.toContain(part);
      }
    });

    it('without encryptionKey the cached M2M token would be readable (so the check above can fail)', async () => {
      const services = await instance({ encryptionKey: undefined });
      const token = await services.m2m.getToken();
      expect(await dump()).toContain(token);
    });

    it('an introspection answer forged into Redis is never taken as active', async () => {
      const services = await instance();
      const opaque = 'forged-opaque-token';
      // Learn the key layout from a real answer, then overwrite it with a forged plain one.
      realm.intercept.introspect = (_req, res) => (
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"active":false}'),
        true
      );
      await services.introspection.introspect(opaque);
      const keys: string[] = [];
      for await (const batch of inspector.scanIterator({ MATCH: 'voxkey:introspection:*' }))
        keys.push(...batch);
      expect(keys).toHaveLength(1);
      const exp = Math.floor(Date.now() / 1000) + 300;
      await inspector.set(keys[0], JSON.stringify({ active: true, aud: JWT_RESOURCE, exp }), {
        PX: 60_000,
      });
      const before = realm.counts.introspect;
      expect(await (await instance()).introspection.isActive(opaque)).toBe(false);
      expect(realm.counts.introspect - before).toBe(1); // the forged entry was a miss
    });

    it('a value sealed under another key reads as absent and is fetched again', async () => {
      const first = await instance();
      await first.m2m.getToken();
      const other = await instance({ encryptionKey: Buffer.alloc(32, 1) });
      const before = realm.counts.token;
      await other.m2m.getToken();
      expect(realm.counts.token - before).toBe(1);
    });
  });

  describe('Redis killed in the middle', () => {
    @Controller()
    class Routes {
      @Scopes('read:posts') @Get('posts') posts() {
        return ['post'];
      }
    }
    let app: INestApplication;
    const logger = new CaptureLogger();

    beforeAll(async () => {
      const options = realm.moduleOptions({
        m2m: { ...M2M_CLIENT, resource: JWT_RESOURCE },
        store: newStore(),
        encryptionKey: KEY,
      }) as VoxKeyModuleOptions;
      app = await createApp('express', [VoxKeyModule.forRoot(options)], [Routes], logger);
    });
    afterAll(async () => {
      await app?.close();
      // Leave a running Redis for the next suites, whatever the test did.
      await redis.kill();
      await redis.restart();
    });

    it('keeps answering correctly, warns once, and shares again once Redis is back', async () => {
      const { M2MTokenService, RevocationService } = await import('../../lib/index');
      const m2m = app.get(M2MTokenService);
      const get = (token: string) =>
        request(app.getHttpServer()).get('/posts').set('Authorization', `Bearer ${token}`);
      const token = await m2m.getToken({ scope: 'read:posts' });
      expect((await get(token)).status).toBe(200);

      await redis.kill();
      for (let i = 0; i < 5; i++) expect((await get(token)).status).toBe(200);
      expect((await get(await realm.issueToken({ scope: 'write:posts' }))).status).toBe(403);
      await expect(m2m.getToken({ scope: 'write:posts' })).resolves.toEqual(expect.any(String));
      const revokedDuringOutage = await realm.issueToken();
      await app.get(RevocationService).revoke(revokedDuringOutage);
      expect((await get(revokedDuringOutage)).status).toBe(401);
      expect(logger.lines.filter((l) => l.includes('Shared store unavailable'))).toHaveLength(1);

      await redis.restart();
      await sleep(1_100); // the next call probes Redis again
      const later = await realm.issueToken();
      await app.get(RevocationService).revoke(later);
      await app.get(RevocationService).revoke(await realm.issueToken());
      expect(logger.lines.some((l) => l.includes('Shared store reachable again'))).toBe(true);
      const reconnected = createClient({ url: redis.url });
      reconnected.on('error', () => undefined);
      await reconnected.connect();
      const keys: string[] = [];
      for await (const batch of reconnected.scanIterator({ MATCH: 'voxkey:revoked:*' }))
        keys.push(...batch);
      await reconnected.close();
      expect(keys.length).toBeGreaterThanOrEqual(1);
    });
  });

  describe('a fleet of four processes', () => {
    const workers: FleetWorker[] = [];

    beforeAll(async () => {
      const options = realm.moduleOptions({
        m2m: { ...M2M_CLIENT, resource: JWT_RESOURCE, scope: 'read:posts' },
      });
      for (let i = 0; i < 4; i++) workers.push(await FleetWorker.start(redis.url, options));
    }, 60_000);
    afterAll(async () => {
      for (const worker of workers) await worker.stop();
    });

    it('200 concurrent getToken calls across 4 processes cause exactly one token request', async () => {
      // Warm each process's store and realm paths first (another scope, so another key): a
      // cold first Redis call can exceed the store's time limit on a loaded machine, and a
      // process whose store times out fetches for itself (by design).
      await Promise.all(
        workers.map((worker) => worker.ask({ cmd: 'tokens', n: 1, scope: 'users:read' })),
      );
      const before = realm.counts.token;
      const replies = await Promise.all(
        workers.map((worker) => worker.ask({ cmd: 'tokens', n: 50 })),
      );
      const tokens = replies.flatMap((r) => r.tokens as string[]);
      expect(tokens).toHaveLength(200);
      expect(new Set(tokens).size).toBe(1);
      expect(realm.counts.token - before).toBe(1);
    });

    it('a token revoked through process 1 is refused by processes 2 to 4 within a second', async () => {
      const token = await realm.issueToken();
      const status = (port: number) =>
        fetch(`http://127.0.0.1:${port}/posts`, {
          headers: { authorization: `Bearer ${token}` },
        }).then((r) => r.status);
      expect(await Promise.all(workers.map((w) => status(w.port)))).toEqual([200, 200, 200, 200]);
      await workers[0].ask({ cmd: 'revoke', token });
      expect(await status(workers[0].port)).toBe(401);
      await sleep(1_050);
      expect(await Promise.all(workers.slice(1).map((w) => status(w.port)))).toEqual([
        401, 401, 401,
      ]);
    });
  });
});
