import { Controller, Get, type INestApplication, Logger } from '@nestjs/common';
import request from 'supertest';
import {
  Realm,
  RealmFromParam,
  VoxKeyModule,
  VoxKeyUser,
  type VoxKeyRealmOptions,
} from '../../lib/index';
import type { IntrospectionResult } from '../../lib/interfaces/introspection-result.interface';
import { createApp, PLATFORMS } from '../support/app';
import { expectRefusal } from '../support/expect-refusal';
import { JWT_RESOURCE, OidcRealm, type OidcClient, OPAQUE_RESOURCE } from '../support/oidc-realm';

/** Which handler ran, and for which realm. */
const calls: string[] = [];

@Controller()
class Routes {
  @RealmFromParam('tenant') @Get('tenants/:tenant/me') tenant(
    @VoxKeyUser() user: IntrospectionResult,
  ) {
    calls.push(`tenant:${user.realm}`);
    return user;
  }

  @Realm('b') @Get('b/me') b(@VoxKeyUser() user: IntrospectionResult) {
    calls.push(`b:${user.realm}`);
    return user;
  }

  @Get('any') any(@VoxKeyUser() user: IntrospectionResult) {
    calls.push(`any:${user.realm}`);
    return user;
  }
}

/** The client a `client_secret_basic` header names. */
function basicClient(authorization: string | undefined): OidcClient {
  const [clientId, clientSecret] = Buffer.from((authorization ?? '').split(' ')[1] ?? '', 'base64')
    .toString('utf8')
    .split(':');
  return { clientId: decodeURIComponent(clientId), clientSecret: decodeURIComponent(clientSecret) };
}

/**
 * `validation: 'introspection'` with several realms, against two real authorization servers
 * (oidc-provider, each with its own API client): an opaque token is asked of the one realm the
 * route binds to, a JWT of the realm its `iss` names, and a token no realm can be told for is a
 * 401 with no introspection request (not a 503).
 */
describe.each(PLATFORMS)('introspection with several realms (%s)', (platform) => {
  let a: OidcRealm;
  let b: OidcRealm;
  let app: INestApplication;
  /** The API client of every introspection request each realm received. */
  const asked = new Map<OidcRealm, OidcClient[]>();

  const entry = (id: string, realm: OidcRealm): VoxKeyRealmOptions => ({
    id,
    realm: realm.realm,
    domain: realm.domain,
    // Opaque tokens are for OPAQUE_RESOURCE; the realms' JWTs are for JWT_RESOURCE.
    audience: [OPAQUE_RESOURCE, JWT_RESOURCE],
    ...realm.apiClient,
  });
  const get = (path: string, token: string) =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
  /** Introspection requests each realm received since `before`. */
  const introspections = () => ({ a: a.counts.introspect, b: b.counts.introspect });
  const since = (before: ReturnType<typeof introspections>) => ({
    a: a.counts.introspect - before.a,
    b: b.counts.introspect - before.b,
  });
  const opaque = (realm: OidcRealm) => realm.issueToken({ resource: OPAQUE_RESOURCE });

  beforeAll(async () => {
    Logger.overrideLogger(false);
    [a, b] = await Promise.all([
      OidcRealm.start({ clientSuffix: '-a' }),
      OidcRealm.start({ clientSuffix: '-b' }),
    ]);
    for (const realm of [a, b]) {
      asked.set(realm, []);
      realm.intercept.introspect = (req) => {
        asked.get(realm)!.push(basicClient(req.headers.authorization));
        return false;
      };
    }
    app = await createApp(
      platform,
      [
        VoxKeyModule.forRoot({
          domain: a.domain,
          validation: 'introspection',
          realms: [entry('a', a), entry('b', b)],
          jwks: { cooldownMs: 0 },
        }),
      ],
      [Routes],
    );
  });
  afterAll(async () => {
    await app?.close();
    await a?.close();
    await b?.close();
  });
  beforeEach(() => {
    calls.length = 0;
    for (const clients of asked.values()) clients.length = 0;
  });

  it("A's opaque token on the route bound to A: accepted, asked of A only, with A's client", async () => {
    const token = await opaque(a);
    const before = introspections();
    const res = await get('/tenants/a/me', token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ active: true, realm: 'a', iss: a.issuer });
    expect(since(before)).toEqual({ a: 1, b: 0 });
    expect(asked.get(a)).toEqual([a.apiClient]);
    expect(calls).toEqual(['tenant:a']);
  });

  it("A's opaque token on the route bound to B: asked of B, which does not know it: 401, not 503", async () => {
    const token = await opaque(a);
    const before = introspections();
    const res = await get('/tenants/b/me', token);
    expectRefusal(res, 401, 'Invalid token', 'The access token is not active');
    expect(since(before)).toEqual({ a: 0, b: 1 });
    expect(asked.get(b)).toEqual([b.apiClient]);
    // The same on @Realm('b').
    expect((await get('/b/me', token)).status).toBe(401);
    expect(calls).toEqual([]);
  });

  it('an opaque token on an unbound route: no realm can be told, a 401 invalid_token and no introspection', async () => {
    const token = await opaque(a);
    const before = introspections();
    const res = await get('/any', token);
    expectRefusal(
      res,
      401,
      'Invalid token',
      'The access token issuer is not accepted',
      `Bearer realm="${a.domain}", error="invalid_token", error_description="The access token issuer is not accepted"`,
    );
    // A route parameter naming no realm cannot pick one either.
    expect((await get('/tenants/nobody/me', token)).status).toBe(401);
    expect(since(before)).toEqual({ a: 0, b: 0 });
    expect(calls).toEqual([]);
  });

  it("A's JWT on an unbound route: its iss names A, which is asked", async () => {
    const jwt = await a.issueToken({ resource: JWT_RESOURCE });
    const before = introspections();
    const res = await get('/any', jwt);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ active: true, realm: 'a', iss: a.issuer });
    expect(since(before)).toEqual({ a: 1, b: 0 });
    expect(calls).toEqual(['any:a']);
  });

  it("A's JWT on the route bound to B: asked of A (its iss), never sent to B, then refused by the binding", async () => {
    const jwt = await a.issueToken({ resource: JWT_RESOURCE });
    const before = introspections();
    const res = await get('/b/me', jwt);
    expectRefusal(res, 401, 'Invalid token', 'The access token issuer is not accepted');
    expect(since(before)).toEqual({ a: 1, b: 0 });
    expect(calls).toEqual([]);
  });

  it("B's opaque token on @Realm('b'): accepted, asked of B only", async () => {
    const token = await opaque(b);
    const before = introspections();
    const res = await get('/b/me', token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ active: true, realm: 'b', iss: b.issuer });
    expect(since(before)).toEqual({ a: 0, b: 1 });
    expect(asked.get(b)).toEqual([b.apiClient]);
    expect(asked.get(a)).toEqual([]);
    expect(calls).toEqual(['b:b']);
  });
});
