import { VoxKeyOAuthError } from '../../lib/index';
import { API_CLIENT, JWT_RESOURCE, OidcRealm, OPAQUE_RESOURCE } from '../support/oidc-realm';
import { buildServices, closeServices, type Services } from '../support/services';
import { movableClock, skipTime } from '../support/clock';
import { json } from '../support/http-stub';
import { b64url } from '../support/token-forge';

describe('IntrospectionService and RevocationService against oidc-provider', () => {
  let realm: OidcRealm;
  let services: Services;
  const introspections = () => realm.counts.introspect;
  const build = (extra: Record<string, unknown> = {}) =>
    buildServices(
      realm.moduleOptions({
        audience: [JWT_RESOURCE, OPAQUE_RESOURCE],
        requestTimeoutMs: 500,
        ...extra,
      }) as never,
    );

  beforeAll(async () => {
    realm = await OidcRealm.start();
  });
  beforeEach(async () => {
    realm.reset();
    services = await build();
  });
  afterEach(closeServices);
  afterAll(async () => realm?.close());

  describe('introspection', () => {
    it('an opaque token is active, then inactive after revoke', async () => {
      const token = await realm.issueToken({
        resource: OPAQUE_RESOURCE,
        scope: 'read:posts write:posts',
      });
      const result = await services.introspection.introspect(token);
      expect(result).toMatchObject({
        active: true,
        client_id: 'm2m-client',
        scope: 'read:posts write:posts',
        aud: OPAQUE_RESOURCE,
        iss: realm.issuer,
        token_type: 'Bearer',
      });
      const revokes = realm.counts.revoke;
      await services.revocation.revoke(token, { tokenTypeHint: 'access_token' });
      expect(realm.counts.revoke - revokes).toBe(1);
      // The cached answer was dropped: the next call asks the realm, which says inactive.
      const before = introspections();
      expect(await services.introspection.isActive(token)).toBe(false);
      expect(introspections() - before).toBe(0); // this API's deny list answers without asking
      expect(await (await build()).introspection.isActive(token)).toBe(false);
      expect(introspections() - before).toBe(1); // another instance asks, and the realm agrees
    });

    it('cache hits do not reach the server; concurrent calls share one request', async () => {
      const token = await realm.issueToken({ resource: OPAQUE_RESOURCE });
      const before = introspections();
      const results = await Promise.all(
        Array.from({ length: 20 }, () => services.introspection.introspect(token)),
      );
      expect(results.every((r) => r.active)).toBe(true);
      expect(introspections() - before).toBe(1);
      await services.introspection.isActive(token);
      expect(introspections() - before).toBe(1);
    });

    it('sends token_type_hint and authenticates as the API client', async () => {
      const token = await realm.issueToken({ resource: OPAQUE_RESOURCE });
      let seen: { body: string; authorization?: string } | undefined;
      realm.intercept.introspect = (req, _res, body) => (
        (seen = { body, authorization: req.headers.authorization }),
        false
      );
      await services.introspection.introspect(token, { tokenTypeHint: 'access_token' });
      expect(Object.fromEntries(new URLSearchParams(seen!.body))).toEqual({
        token,
        token_type_hint: 'access_token',
      });
      expect(seen!.authorization).toBe(
        `Basic ${Buffer.from('api-client:api-secret').toString('base64')}`,
      );
    });

    describe('active answers, with a movable clock', () => {
      movableClock();
      it('a cached answer never outlives the token exp', async () => {
        realm.accessTokenTtl = 2;
        const token = await realm.issueToken({ resource: OPAQUE_RESOURCE });
        expect(await services.introspection.isActive(token)).toBe(true);
        const before = introspections();
        skipTime(2100);
        expect(await services.introspection.isActive(token)).toBe(false);
        expect(introspections() - before).toBe(1);
      });
    });

    it('with cacheTtlMs: 0 every call asks the realm', async () => {
      services = await build({ introspection: { cacheTtlMs: 0 } });
      const token = await realm.issueToken({ resource: OPAQUE_RESOURCE });
      const before = introspections();
      await services.introspection.isActive(token);
      await services.introspection.isActive(token);
      expect(introspections() - before).toBe(2);
    });

    describe('inactive answers, with a movable clock', () => {
      movableClock();
      it('inactive answers are kept only briefly', async () => {
        services = await build({ introspection: { inactiveCacheTtlMs: 300 } });
        const before = introspections();
        expect(await services.introspection.isActive('not-a-token-the-realm-knows')).toBe(false);
        expect(await services.introspection.isActive('not-a-token-the-realm-knows')).toBe(false);
        expect(introspections() - before).toBe(1);
        skipTime(350);
        await services.introspection.isActive('not-a-token-the-realm-knows');
        expect(introspections() - before).toBe(2);
      });
    });

    it('an active answer for another audience is inactive for this API (RFC 8707, RFC 9700 §2.3)', async () => {
      services = await build({ audience: JWT_RESOURCE });
      const token = await realm.issueToken({ resource: OPAQUE_RESOURCE });
      expect(await services.introspection.introspect(token)).toEqual({ active: false });
    });

    it.each([
      [
        'another realm as iss',
        { active: true, aud: JWT_RESOURCE, iss: 'http://127.0.0.1:1/oauth2/other' },
      ],
      ['active as a string', { active: 'true', aud: JWT_RESOURCE }],
      ['active as 1', { active: 1, aud: JWT_RESOURCE }],
      ['no aud', { active: true }],
      ['aud of another type', { active: true, aud: { JWT_RESOURCE } }],
      ['exp as a string', { active: true, aud: JWT_RESOURCE, exp: '9999999999' }],
      ['scope as a list', { active: true, aud: JWT_RESOURCE, scope: ['admin'] }],
      ['an expired exp', { active: true, aud: JWT_RESOURCE, exp: 1 }],
    ])('%s is treated as inactive', async (_name, body) => {
      realm.intercept.introspect = (_req, res) => (json(res, 200, body), true);
      expect(await services.introspection.introspect('some-token')).toEqual({ active: false });
    });

    it('a JSON array or non-JSON success answer is an error, never active', async () => {
      realm.intercept.introspect = (_req, res) => (json(res, 200, [true]), true);
      await expect(services.introspection.introspect('t1')).rejects.toMatchObject({
        error: 'invalid_response',
      });
      realm.intercept.introspect = (_req, res) => (res.writeHead(200).end('<html>'), true);
      await expect(services.introspection.introspect('t2')).rejects.toMatchObject({
        error: 'invalid_response',
      });
      realm.intercept.introspect = (_req, res) => (res.writeHead(200).end(), true);
      await expect(services.introspection.introspect('t3')).rejects.toMatchObject({
        error: 'invalid_response',
      });
    });

    it('our own credentials rejected: invalid_client, not retryable', async () => {
      services = await build({ clientSecret: 'wrong-secret' });
      const error = await services.introspection.introspect('any').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VoxKeyOAuthError);
      expect(error).toMatchObject({ error: 'invalid_client', status: 401, retryable: false });
      expect((error as Error).message).not.toContain('wrong-secret');
    });

    it('endpoint down: a retryable error, nothing cached', async () => {
      realm.intercept.introspect = (_req, res) => (
        json(res, 503, { error: 'temporarily_unavailable' }, { 'retry-after': '3' }),
        true
      );
      await expect(services.introspection.introspect('t')).rejects.toMatchObject({
        status: 503,
        retryable: true,
        retryAfter: 3,
      });
      delete realm.intercept.introspect;
      const token = await realm.issueToken({ resource: OPAQUE_RESOURCE });
      expect(await services.introspection.isActive(token)).toBe(true);
    });

    it('a slow endpoint times out', async () => {
      realm.intercept.introspect = () => true;
      await expect(services.introspection.introspect('t')).rejects.toMatchObject({
        error: 'timeout',
        retryable: true,
      });
    });

    it('JWT access tokens through the test realm shim: active, then inactive after revoke', async () => {
      const token = await realm.issueToken({ resource: JWT_RESOURCE });
      expect(await services.introspection.introspect(token)).toMatchObject({
        active: true,
        aud: JWT_RESOURCE,
      });
      await services.revocation.revoke(token);
      expect(await (await build()).introspection.isActive(token)).toBe(false);
    });

    it('each caller gets its own copy of a cached answer', async () => {
      const token = await realm.issueToken({ resource: OPAQUE_RESOURCE });
      const first = await services.introspection.introspect(token);
      first.scope = 'admin';
      const second = await services.introspection.introspect(token);
      expect(second).not.toBe(first);
      expect(second.scope).toBe('read:posts');
    });

    it('without client credentials it refuses clearly', async () => {
      services = await buildServices({
        domain: realm.domain,
        realm: realm.realm,
        audience: JWT_RESOURCE,
      });
      await expect(services.introspection.introspect('t')).rejects.toThrow(
        "'clientId' and 'clientSecret' are required to call the introspection endpoint",
      );
    });
  });

  describe('revocation (RFC 7009)', () => {
    it('a token the server does not know still revokes successfully', async () => {
      await expect(services.revocation.revoke('unknown-token')).resolves.toBeUndefined();
    });

    it('a revoked JWT goes on the local deny list until its exp', async () => {
      const token = await realm.issueToken();
      expect(await services.revoked.isRevoked(token, 'default')).toBe(false);
      await services.revocation.revoke(token);
      expect(await services.revoked.isRevoked(token, 'default')).toBe(true);
    });

    it('any 2xx is a successful revocation, whatever the body (RFC 7009 §2.2)', async () => {
      const token = await realm.issueToken();
      realm.intercept.revoke = (_req, res) => (
        res.writeHead(200, { 'content-type': 'text/plain' }).end('OK'),
        true
      );
      await expect(services.revocation.revoke(token)).resolves.toBeUndefined();
      expect(await services.revoked.isRevoked(token, 'default')).toBe(true);
    });

    it('a JWT stays denied while local validation would still accept it (exp + clock tolerance)', async () => {
      const exp = Math.floor(Date.now() / 1000) - 2; // expired, but within the 5 s tolerance
      const token = `${b64url({ alg: 'RS256' })}.${b64url({ exp })}.c2ln`;
      await services.revocation.revoke(token);
      expect(await services.revoked.isRevoked(token, 'default')).toBe(true);
    });

    it('503 with Retry-After: not revoked, retryable, nothing on the deny list', async () => {
      const token = await realm.issueToken();
      realm.intercept.revoke = (_req, res) => (
        json(res, 503, { error: 'temporarily_unavailable' }, { 'retry-after': '7' }),
        true
      );
      const error = await services.revocation.revoke(token).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VoxKeyOAuthError);
      expect(error).toMatchObject({ status: 503, retryable: true, retryAfter: 7 });
      expect(await services.revoked.isRevoked(token, 'default')).toBe(false);
    });

    it('unsupported_token_type and invalid_client are not retryable', async () => {
      realm.intercept.revoke = (_req, res) => (
        json(res, 400, { error: 'unsupported_token_type' }),
        true
      );
      await expect(services.revocation.revoke('t')).rejects.toMatchObject({
        error: 'unsupported_token_type',
        retryable: false,
      });
      delete realm.intercept.revoke;
      services = await build({ clientId: API_CLIENT.clientId, clientSecret: 'nope' });
      await expect(services.revocation.revoke('t')).rejects.toMatchObject({
        error: 'invalid_client',
        retryable: false,
      });
    });
  });
});
