import { type INestApplication, Logger } from '@nestjs/common';
import request from 'supertest';
import {
  RedisStore,
  RevocationService,
  VoxKeyConfigError,
  VoxKeyModule,
  type VoxKeyModuleOptions,
  type VoxKeyRealmOptions,
} from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing';
import { createApp, PLATFORMS } from '../support/app';
import { movableClock, skipTime } from '../support/clock';
import { expectRefusal } from '../support/expect-refusal';
import { prewarmSettled } from '../support/health';
import { JWT_RESOURCE, OidcRealm, type OidcClient, OPAQUE_RESOURCE } from '../support/oidc-realm';
import { describeWithRedis, RedisServer } from '../support/redis-server';
import { RoutesController } from '../support/routes';
import { buildServices, closeServices } from '../support/services';

/** Every realm of these tests accepts both resources of the dev realms. */
const AUDIENCES = [JWT_RESOURCE, OPAQUE_RESOURCE];
/** A public domain nothing can reach: only the back channel may be used. */
const UNREACHABLE = 'https://login.invalid';

/** The client a `client_secret_basic` header names. */
function basicClient(authorization: string | undefined): OidcClient {
  const [scheme, value] = (authorization ?? '').split(' ');
  expect(scheme).toBe('Basic');
  const [clientId, clientSecret] = Buffer.from(value, 'base64').toString('utf8').split(':');
  return { clientId: decodeURIComponent(clientId), clientSecret: decodeURIComponent(clientSecret) };
}

/** A JWT's payload, unverified. */
function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

const jtiOf = (jwt: string) => claimsOf(jwt).jti as string;

/**
 * Several realms against two real authorization servers (oidc-provider, each with its own client
 * ids and secrets), counting what each server receives: the services take the realm (forRealm,
 * an option, or a JWT's own iss), send only that realm's credentials to that realm's endpoints,
 * and keep their caches and deny list per realm (tenancy-ops §1.5 items 7-8, MT-10, MT-11; BC-08).
 */
describe('several realms: M2M, introspection and revocation against two real servers', () => {
  let a: OidcRealm;
  let b: OidcRealm;
  /** Authorization headers each realm received at introspection and revocation. */
  const seen = new Map<OidcRealm, { endpoint: string; client: OidcClient }[]>();

  /** The realm entry for one dev realm: its own domain, UUID, API client and M2M client. */
  const entry = (
    id: string,
    realm: OidcRealm,
    extra: Partial<VoxKeyRealmOptions> = {},
  ): VoxKeyRealmOptions => ({
    id,
    realm: realm.realm,
    domain: realm.domain,
    audience: AUDIENCES,
    ...realm.apiClient,
    m2m: { ...realm.m2mClient, scope: 'read:posts', resource: JWT_RESOURCE },
    ...extra,
  });
  const twoRealms = (extra: Partial<VoxKeyModuleOptions> = {}): VoxKeyModuleOptions => ({
    domain: a.domain,
    realms: [entry('a', a), entry('b', b)],
    jwks: { cooldownMs: 0 },
    ...extra,
  });
  /** Records the client of every introspection and revocation request, without answering it. */
  const watch = (realm: OidcRealm) => {
    for (const endpoint of ['introspect', 'revoke'] as const) {
      realm.intercept[endpoint] = (req) => {
        seen.get(realm)!.push({ endpoint, client: basicClient(req.headers.authorization) });
        return false;
      };
    }
  };
  type Counts = OidcRealm['counts'];
  const minus = (now: Counts, then: Counts) =>
    Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - then[k as keyof Counts]]));
  /** Requests each server received since `before` (from `counts()`), per endpoint. */
  const counts = () => ({ a: { ...a.counts }, b: { ...b.counts } });
  const delta = (before: ReturnType<typeof counts>) => ({
    a: minus(a.counts, before.a),
    b: minus(b.counts, before.b),
  });

  beforeAll(async () => {
    Logger.overrideLogger(false);
    [a, b] = await Promise.all([
      OidcRealm.start({ clientSuffix: '-a' }),
      OidcRealm.start({ clientSuffix: '-b' }),
    ]);
  });
  beforeEach(() => {
    for (const realm of [a, b]) {
      realm.reset();
      seen.set(realm, []);
      watch(realm);
    }
  });
  afterEach(closeServices);
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('the two servers really hold different credentials (so the checks below can fail)', () => {
    expect(a.apiClient).not.toEqual(b.apiClient);
    expect(a.m2mClient.clientSecret).not.toBe(b.m2mClient.clientSecret);
    expect(a.domain).not.toBe(b.domain);
  });

  describe('M2MTokenService (MT-11)', () => {
    it("forRealm('a') sends only A's M2M credentials, to A's token endpoint; same for B", async () => {
      const { m2m } = await buildServices(twoRealms());
      let before = counts();
      const tokenA = await m2m.forRealm('a').getToken();
      expect(delta(before)).toMatchObject({ a: { token: 1 }, b: { token: 0 } });
      expect(basicClient(a.tokenRequests.at(-1)!.authorization)).toEqual(a.m2mClient);
      expect(new URLSearchParams(a.tokenRequests.at(-1)!.body).get('resource')).toBe(JWT_RESOURCE);

      before = counts();
      const tokenB = await m2m.forRealm('b').getToken();
      expect(delta(before)).toMatchObject({ a: { token: 0 }, b: { token: 1 } });
      expect(basicClient(b.tokenRequests.at(-1)!.authorization)).toEqual(b.m2mClient);
      // Each token was issued by the realm asked.
      expect(tokenA).not.toBe(tokenB);
      expect(claimsOf(tokenB)).toMatchObject({
        iss: b.issuer,
        client_id: b.m2mClient.clientId,
      });
      // No request to either server ever carried the other realm's credentials.
      for (const { authorization, body } of a.tokenRequests) {
        expect(basicClient(authorization)).toEqual(a.m2mClient);
        expect(body).not.toContain(b.m2mClient.clientSecret);
      }
      for (const { authorization, body } of b.tokenRequests) {
        expect(basicClient(authorization)).toEqual(b.m2mClient);
        expect(body).not.toContain(a.m2mClient.clientSecret);
      }
    });

    it("getToken({ realm: 'b' }) goes to B with B's credentials", async () => {
      const { m2m } = await buildServices(twoRealms());
      const before = counts();
      const token = await m2m.getToken({ realm: 'b', scope: 'users:read' });
      expect(delta(before)).toMatchObject({ a: { token: 0 }, b: { token: 1 } });
      const sent = b.tokenRequests.at(-1)!;
      expect(basicClient(sent.authorization)).toEqual(b.m2mClient);
      expect(new URLSearchParams(sent.body).get('scope')).toBe('users:read');
      expect(token).toEqual(expect.any(String));
    });

    it('without a realm, with several configured: a VoxKeyConfigError naming forRealm, and no request', async () => {
      const { m2m } = await buildServices(twoRealms());
      const before = counts();
      await expect(m2m.getToken()).rejects.toThrow(VoxKeyConfigError);
      await expect(m2m.getAuthorizationHeader()).rejects.toThrow(/forRealm\('a'\)/);
      expect(() => m2m.forRealm('c')).toThrow(/no realm 'c' is configured/);
      await expect(m2m.getToken({ realm: 'c' })).rejects.toThrow(VoxKeyConfigError);
      expect(delta(before)).toMatchObject({ a: { token: 0 }, b: { token: 0 } });
    });

    it("tokens are cached per realm: a second call per realm asks nobody; A's token is never B's", async () => {
      const { m2m } = await buildServices(twoRealms());
      const first = {
        a: await m2m.forRealm('a').getToken(),
        b: await m2m.getToken({ realm: 'b' }),
      };
      const before = counts();
      expect(await m2m.forRealm('a').getToken()).toBe(first.a);
      expect(await m2m.forRealm('b').getToken()).toBe(first.b);
      expect(await m2m.getToken({ realm: 'a' })).toBe(first.a);
      expect(delta(before)).toMatchObject({ a: { token: 0 }, b: { token: 0 } });
      expect(first.a).not.toBe(first.b);
    });

    it('concurrent first calls for A and B make one request each, to their own realm', async () => {
      const { m2m } = await buildServices(twoRealms());
      const before = counts();
      const tokens = await Promise.all([
        ...Array.from({ length: 5 }, () => m2m.forRealm('a').getToken()),
        ...Array.from({ length: 5 }, () => m2m.forRealm('b').getToken()),
      ]);
      expect(delta(before)).toMatchObject({ a: { token: 1 }, b: { token: 1 } });
      expect(new Set(tokens.slice(0, 5)).size).toBe(1);
      expect(new Set(tokens.slice(5)).size).toBe(1);
      expect(tokens[0]).not.toBe(tokens[5]);
    });
  });

  describe('IntrospectionService', () => {
    it("forRealm('a') asks A with A's API client; B's token asked of A is inactive", async () => {
      const { introspection } = await buildServices(twoRealms());
      const aToken = await a.issueToken({ resource: OPAQUE_RESOURCE });
      const bToken = await b.issueToken({ resource: OPAQUE_RESOURCE });
      const before = counts();
      await expect(introspection.forRealm('a').introspect(aToken)).resolves.toMatchObject({
        active: true,
        realm: 'a',
        client_id: a.m2mClient.clientId,
      });
      expect(await introspection.forRealm('a').isActive(bToken)).toBe(false);
      expect(delta(before)).toMatchObject({ a: { introspect: 2 }, b: { introspect: 0 } });
      expect(seen.get(a)).toEqual([
        { endpoint: 'introspect', client: a.apiClient },
        { endpoint: 'introspect', client: a.apiClient },
      ]);
      expect(seen.get(b)).toEqual([]);
    });

    it("an active answer naming another realm's issuer is inactive (fault: A answers for B)", async () => {
      const { introspection } = await buildServices(twoRealms());
      const exp = Math.floor(Date.now() / 1000) + 300;
      a.intercept.introspect = (_req, res) => (
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ active: true, iss: b.issuer, aud: JWT_RESOURCE, exp })),
        true
      );
      expect(await introspection.forRealm('a').isActive('some-opaque-token')).toBe(false);
      // The same answer with A's own issuer is active: it was the issuer that made the difference.
      a.intercept.introspect = (_req, res) => (
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ active: true, iss: a.issuer, aud: JWT_RESOURCE, exp })),
        true
      );
      expect(await introspection.forRealm('a').isActive('another-opaque-token')).toBe(true);
    });

    it("a JWT without a realm goes to the realm its iss names, with that realm's client", async () => {
      const { introspection } = await buildServices(twoRealms());
      const bJwt = await b.issueToken();
      const before = counts();
      await expect(introspection.introspect(bJwt)).resolves.toMatchObject({
        active: true,
        realm: 'b',
        iss: b.issuer,
      });
      expect(delta(before)).toMatchObject({ a: { introspect: 0 }, b: { introspect: 1 } });
      expect(seen.get(b)).toEqual([{ endpoint: 'introspect', client: b.apiClient }]);
      expect(seen.get(a)).toEqual([]);
    });

    it('an opaque token without a realm: a VoxKeyConfigError naming forRealm, and no request', async () => {
      const { introspection } = await buildServices(twoRealms());
      const opaque = await a.issueToken({ resource: OPAQUE_RESOURCE });
      const before = counts();
      await expect(introspection.introspect(opaque)).rejects.toThrow(VoxKeyConfigError);
      await expect(introspection.isActive(opaque)).rejects.toThrow(/forRealm\('a'\)/);
      // A JWT whose iss is no configured realm cannot pick one either.
      const foreign = await VoxKeyTestRealm.start({ audience: JWT_RESOURCE });
      try {
        await expect(introspection.introspect(foreign.mint())).rejects.toThrow(VoxKeyConfigError);
      } finally {
        await foreign.close();
      }
      expect(delta(before)).toMatchObject({ a: { introspect: 0 }, b: { introspect: 0 } });
    });

    it('answers are cached per realm: one token asked of A, then of B, is two requests', async () => {
      const { introspection } = await buildServices(twoRealms());
      const opaque = await a.issueToken({ resource: OPAQUE_RESOURCE });
      const before = counts();
      expect(await introspection.forRealm('a').isActive(opaque)).toBe(true);
      // A's cached "active" is not B's answer: B is asked, and B does not know the token.
      expect(await introspection.forRealm('b').isActive(opaque)).toBe(false);
      expect(delta(before)).toMatchObject({ a: { introspect: 1 }, b: { introspect: 1 } });
      // Both answers are now cached, each under its own realm.
      expect(await introspection.introspect(opaque, { realm: 'a' })).toMatchObject({
        active: true,
      });
      expect(await introspection.forRealm('b').isActive(opaque)).toBe(false);
      expect(delta(before)).toMatchObject({ a: { introspect: 1 }, b: { introspect: 1 } });
    });
  });

  describe('RevocationService and the deny list (MT-10)', () => {
    it("revoke(jwt) picks the realm from iss and sends A's API client to A only", async () => {
      const { revocation, introspection } = await buildServices(twoRealms());
      const aJwt = await a.issueToken();
      const before = counts();
      await revocation.revoke(aJwt);
      expect(delta(before)).toMatchObject({ a: { revoke: 1 }, b: { revoke: 0 } });
      expect(seen.get(a)).toEqual([{ endpoint: 'revoke', client: a.apiClient }]);
      expect(seen.get(b)).toEqual([]);
      // Known revoked here: no introspection request is needed to say so.
      expect(await introspection.isActive(aJwt)).toBe(false);
      expect(delta(before)).toMatchObject({ a: { introspect: 0 }, b: { introspect: 0 } });
    });

    it("forRealm('b').revoke(opaque) goes to B; without a realm an opaque token is a VoxKeyConfigError", async () => {
      const { revocation, introspection } = await buildServices(twoRealms());
      const opaque = await b.issueToken({ resource: OPAQUE_RESOURCE });
      const before = counts();
      await expect(revocation.revoke(opaque)).rejects.toThrow(/forRealm\('a'\)/);
      expect(delta(before)).toMatchObject({ a: { revoke: 0 }, b: { revoke: 0 } });
      await revocation.forRealm('b').revoke(opaque);
      expect(delta(before)).toMatchObject({ a: { revoke: 0 }, b: { revoke: 1 } });
      expect(seen.get(b)).toEqual([{ endpoint: 'revoke', client: b.apiClient }]);
      expect(await introspection.forRealm('b').isActive(opaque)).toBe(false);
      expect(delta(before)).toMatchObject({ b: { introspect: 0 } }); // the deny list answered
    });

    it('the same token string revoked in realm A is not revoked in realm B', async () => {
      const { revoked } = await buildServices(twoRealms());
      await revoked.add('the-same-opaque-string', Date.now() + 60_000, 'a');
      expect(await revoked.isRevoked('the-same-opaque-string', 'a')).toBe(true);
      expect(await revoked.isRevoked('the-same-opaque-string', 'b')).toBe(false);
    });
  });

  describe.each(PLATFORMS)('the guard after a revocation, on %s', (platform) => {
    /** A third realm whose tokens the test signs itself, to reuse A's `jti`. */
    let c: VoxKeyTestRealm;
    let app: INestApplication;
    const get = (token: string) =>
      request(app.getHttpServer()).get('/me').set('Authorization', `Bearer ${token}`);

    beforeAll(async () => {
      c = await VoxKeyTestRealm.start({ audience: JWT_RESOURCE });
      const options = twoRealms();
      options.realms!.push({ id: 'c', realm: c.realm, domain: c.domain, audience: JWT_RESOURCE });
      app = await createApp(platform, [VoxKeyModule.forRoot(options)], [RoutesController]);
    });
    afterAll(async () => {
      await app?.close();
      await c?.close();
    });

    it("A's revoked JWT is refused; B's token, and C's token with the same jti, still pass", async () => {
      const aJwt = await a.issueToken();
      const bJwt = await b.issueToken();
      const cJwt = c.mint({ claims: { jti: jtiOf(aJwt), sub: a.m2mClient.clientId } });
      expect(jtiOf(cJwt)).toBe(jtiOf(aJwt));
      // All three pass first (and are now in the verified-token cache).
      for (const [token, realm] of [
        [aJwt, 'a'],
        [bJwt, 'b'],
        [cJwt, 'c'],
      ]) {
        const res = await get(token);
        expect(res.status).toBe(200);
        expect(res.body.realm).toBe(realm);
      }
      const before = counts();
      await app.get(RevocationService).revoke(aJwt);
      expect(delta(before)).toMatchObject({ a: { revoke: 1 }, b: { revoke: 0 } });
      expect(c.requests.filter((line) => !line.endsWith('/oidc/jwks'))).toEqual([]);

      expectRefusal(await get(aJwt), 401, 'Invalid token', 'The access token was revoked');
      expect((await get(bJwt)).status).toBe(200);
      const same = await get(cJwt);
      expect(same.status).toBe(200);
      expect(same.body).toMatchObject({ realm: 'c', jti: jtiOf(aJwt) });
    });
  });

  describeWithRedis('the deny list and the M2M cache in a shared Redis', () => {
    let redis: RedisServer;
    let c: VoxKeyTestRealm;
    const stores: RedisStore[] = [];
    /** One API instance's options; every instance has its own connection to the one Redis. */
    const sharing = (): VoxKeyModuleOptions => {
      const store = new RedisStore({ url: redis.url, prefix: 'realms:' });
      stores.push(store);
      const options = twoRealms({ store, encryptionKey: Buffer.alloc(32, 7) });
      options.realms!.push({ id: 'c', realm: c.realm, domain: c.domain, audience: JWT_RESOURCE });
      return options;
    };

    beforeAll(async () => {
      redis = await RedisServer.start();
      c = await VoxKeyTestRealm.start({ audience: JWT_RESOURCE });
    });
    afterAll(async () => {
      for (const store of stores) await store.close();
      await c?.close();
      await redis?.stop();
    });

    describe('with a movable clock', () => {
      movableClock();
      let app: INestApplication | undefined;
      afterEach(async () => {
        await app?.close();
        app = undefined;
      });

      it("an app refuses A's token revoked by another instance, and still accepts B's and C's", async () => {
        // Passport's registry is process-wide: the other instance is the services alone, built
        // before the app registers its strategy.
        const other = await buildServices(sharing());
        app = await createApp('express', [VoxKeyModule.forRoot(sharing())], [RoutesController]);
        const get = (token: string) =>
          request(app!.getHttpServer()).get('/me').set('Authorization', `Bearer ${token}`);
        const aJwt = await a.issueToken();
        const bJwt = await b.issueToken();
        const cJwt = c.mint({ claims: { jti: jtiOf(aJwt) } });
        for (const token of [aJwt, bJwt, cJwt]) expect((await get(token)).status).toBe(200);
        const before = counts();
        await other.revocation.revoke(aJwt);
        expect(delta(before)).toMatchObject({ a: { revoke: 1 }, b: { revoke: 0 } });
        skipTime(1_050); // past the app's one-second "not revoked" memo
        expectRefusal(await get(aJwt), 401, 'Invalid token', 'The access token was revoked');
        expect((await get(bJwt)).status).toBe(200);
        expect((await get(cJwt)).status).toBe(200);
        // Nothing but the one revocation reached a realm.
        expect(delta(before)).toMatchObject({
          a: { revoke: 1, introspect: 0 },
          b: { revoke: 0, introspect: 0 },
        });
      });
    });

    it('one string revoked in realm A, then checked in B by another instance, is still revoked in A', async () => {
      const [first, second] = [await buildServices(sharing()), await buildServices(sharing())];
      const opaque = `opaque-${Date.now()}`;
      await first.revoked.add(opaque, Date.now() + 60_000, 'a');
      expect(await second.revoked.isRevoked(opaque, 'b')).toBe(false);
      expect(await second.revoked.isRevoked(opaque, 'a')).toBe(true);
    });

    it("M2M tokens in Redis are per realm: another instance reuses A's, and asks B for B's", async () => {
      const [first, second] = [await buildServices(sharing()), await buildServices(sharing())];
      const fromFirst = await first.m2m.forRealm('a').getToken();
      let before = counts();
      expect(await second.m2m.forRealm('a').getToken()).toBe(fromFirst);
      expect(delta(before)).toMatchObject({ a: { token: 0 }, b: { token: 0 } });
      before = counts();
      const forB = await second.m2m.forRealm('b').getToken();
      expect(forB).not.toBe(fromFirst);
      expect(delta(before)).toMatchObject({ a: { token: 0 }, b: { token: 1 } });
      expect(basicClient(b.tokenRequests.at(-1)!.authorization)).toEqual(b.m2mClient);
    });
  });

  describe('backchannelUrl (BC-08, BC-01)', () => {
    /** Realm A seen through an unreachable public domain, reached over its back channel. */
    const behindBackchannel = (extra: Partial<VoxKeyRealmOptions> = {}): VoxKeyModuleOptions => ({
      domain: UNREACHABLE,
      realms: [
        entry('bc', a, { domain: UNREACHABLE, backchannelUrl: a.domain, ...extra }),
        entry('b', b),
      ],
      jwks: { cooldownMs: 0 },
    });

    it('the M2M token request goes to the back-channel host, with the resource unchanged', async () => {
      const { m2m } = await buildServices(behindBackchannel());
      const hosts: string[] = [];
      a.intercept.token = (req) => (hosts.push(`${req.headers.host}${req.url}`), false);
      const before = counts();
      // The realm's own m2m.resource, as configured: nothing rewrites it towards the back channel.
      const token = await m2m.forRealm('bc').getToken();
      expect(delta(before)).toMatchObject({ a: { token: 1 }, b: { token: 0 } });
      expect(hosts).toEqual([`${new URL(a.domain).host}/oauth2/${a.realm}/token`]);
      const sent = a.tokenRequests.at(-1)!;
      expect(new URLSearchParams(sent.body).get('resource')).toBe(JWT_RESOURCE);
      expect(basicClient(sent.authorization)).toEqual(a.m2mClient);
      // The token's audience is the resource, not anything derived from the back channel.
      expect(claimsOf(token)).toMatchObject({
        aud: JWT_RESOURCE,
      });
    });

    it('introspection and revocation go to the back channel too; an answer naming the internal issuer is not the public one', async () => {
      const { introspection, revocation } = await buildServices(behindBackchannel());
      const opaque = await a.issueToken({ resource: OPAQUE_RESOURCE });
      const before = counts();
      // The dev realm names its own (internal) URL as iss: not the public issuer of realm 'bc'.
      expect(await introspection.forRealm('bc').isActive(opaque)).toBe(false);
      await revocation.forRealm('bc').revoke(opaque);
      expect(delta(before)).toMatchObject({
        a: { introspect: 1, revoke: 1 },
        b: { introspect: 0, revoke: 0 },
      });
      expect(seen.get(a)).toEqual([
        { endpoint: 'introspect', client: a.apiClient },
        { endpoint: 'revoke', client: a.apiClient },
      ]);
    });

    it("with the internal issuer as an issuerAlias, the back channel's introspection answer is active", async () => {
      const { introspection } = await buildServices(
        behindBackchannel({ issuerAliases: [a.issuer] }),
      );
      const opaque = await a.issueToken({ resource: OPAQUE_RESOURCE });
      const before = counts();
      await expect(introspection.forRealm('bc').introspect(opaque)).resolves.toMatchObject({
        active: true,
        realm: 'bc',
      });
      expect(delta(before)).toMatchObject({ a: { introspect: 1 }, b: { introspect: 0 } });
    });

    describe.each(PLATFORMS)('the guard, on %s', (platform) => {
      let app: INestApplication | undefined;
      const start = async (options: VoxKeyModuleOptions) => {
        app = await createApp(platform, [VoxKeyModule.forRoot(options)], [RoutesController]);
        // Counts taken from here on never catch the start-up fetch of the key sets mid-way.
        await prewarmSettled(app);
        return (token: string) =>
          request(app!.getHttpServer()).get('/me').set('Authorization', `Bearer ${token}`);
      };
      afterEach(async () => {
        await app?.close();
        app = undefined;
      });

      it('a token whose iss is the back-channel URL is refused (401) when the public domain differs, before any key fetch', async () => {
        const get = await start(behindBackchannel());
        const token = await a.issueToken();
        const before = counts();
        const res = await get(token);
        expectRefusal(res, 401, 'Invalid token', 'The access token issuer is not accepted');
        expect(delta(before)).toMatchObject({ a: { jwks: 0 }, b: { jwks: 0 } });
        // B, configured directly, is unaffected.
        expect((await get(await b.issueToken())).status).toBe(200);
      });

      it('with that exact URL as an issuerAlias it passes, its keys fetched over the back channel (BC-02)', async () => {
        const before = counts(); // the keys are fetched at start-up (pre-warm)
        const get = await start(behindBackchannel({ issuerAliases: [a.issuer] }));
        const token = await a.issueToken();
        const res = await get(token);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ realm: 'bc', iss: a.issuer });
        expect(delta(before).a.jwks).toBeGreaterThanOrEqual(1);
      });
    });
  });
});
