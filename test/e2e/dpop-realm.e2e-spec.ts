import { Controller, Get, type INestApplication } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import {
  RequireActiveToken,
  Scopes,
  VoxKeyModule,
  VoxKeyUser,
  type VoxKeyClaims,
  type VoxKeyModuleOptions,
} from '../../lib/index';
import { SUPPORTED_ALGORITHMS } from '../../lib/voxkey.constants';
import { createApp, PLATFORMS, type Platform } from '../support/app';
import { CaptureLogger } from '../support/capture-logger';
import { createDpopKey, dpopRequest, type DpopKey, requestDpopToken } from '../support/dpop-client';
import { freePort } from '../support/free-port';
import { JWT_RESOURCE, M2M_CLIENT, OidcRealm, OPAQUE_RESOURCE } from '../support/oidc-realm';

// DPoP end to end with parts this repository did not write: the development realm (a real
// oidc-provider with features.dPoP) issues DPoP-bound tokens, and panva's oauth4webapi makes
// every proof, as a real client would. test/e2e/dpop.e2e-spec.ts covers the proof checks
// themselves with the testing kit.

const ALGS = `algs="${SUPPORTED_ALGORITHMS.join(' ')}"`;
const NONCE_SECRET = 'a-nonce-secret-of-at-least-32-bytes!';

@Controller()
class Routes {
  @Scopes('read:posts') @Get('posts') posts(@VoxKeyUser() user: VoxKeyClaims) {
    return { client_id: user.client_id, dpop: user.dpop ?? null };
  }

  @RequireActiveToken() @Scopes('read:posts') @Get('live') live() {
    return { live: true };
  }
}

/** A plain Bearer request, as a client unaware of the binding would send it. */
async function bearer(url: string, token: string) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return { status: res.status, challenge: res.headers.get('www-authenticate') };
}

/** A 401 invalid_token on the Bearer challenge, the DPoP one after it. */
function expectInvalidToken({ status, challenge }: { status: number; challenge: string | null }) {
  expect(status).toBe(401);
  expect(challenge).toMatch(/^Bearer realm="[^"]+", error="invalid_token", /);
  expect(challenge).toMatch(new RegExp(`, DPoP ${ALGS}$`));
}

/**
 * An app on its own port whose `dpop.publicUrl` is its real URL (known before it starts): every
 * proof it received and every line it logged are kept.
 */
function dpopApp(
  platform: Platform,
  realm: () => OidcRealm,
  options: (publicUrl: string) => Record<string, unknown>,
) {
  const ctx = {
    url: '',
    logs: new CaptureLogger(),
    proofs: [] as string[],
    tokens: [] as string[],
  } as {
    url: string;
    app: INestApplication;
    logs: CaptureLogger;
    proofs: string[];
    tokens: string[];
  };
  beforeAll(async () => {
    const port = await freePort();
    ctx.url = `http://127.0.0.1:${port}`;
    const moduleOptions = realm().moduleOptions(options(ctx.url)) as VoxKeyModuleOptions;
    ctx.app = await createApp(
      platform,
      [VoxKeyModule.forRoot(moduleOptions)],
      [Routes],
      ctx.logs,
      port,
    );
    ctx.app.useLogger(ctx.logs);
    ctx.app.getHttpServer().on('request', (req: IncomingMessage) => {
      if (typeof req.headers.dpop === 'string') ctx.proofs.push(req.headers.dpop);
    });
  });
  afterAll(async () => ctx.app?.close());
  /** No token or proof the app has seen so far in any line it logged (the refusals are logged). */
  const expectNothingSecretLogged = () => {
    expect(ctx.proofs.length).toBeGreaterThan(0);
    expect(ctx.tokens.length).toBeGreaterThan(0);
    expect(ctx.logs.lines.some((l) => l.includes('Rejected (401)'))).toBe(true);
    for (const secret of [...ctx.proofs, ...ctx.tokens]) {
      const signature = secret.split('.').at(-1)!;
      for (const line of ctx.logs.lines) {
        expect(line).not.toContain(secret);
        expect(line).not.toContain(signature);
      }
    }
  };
  return { ctx, expectNothingSecretLogged };
}

describe('DPoP with the development realm and oauth4webapi proofs', () => {
  let realm: OidcRealm;
  beforeAll(async () => {
    realm = await OidcRealm.start({ dpop: true });
  });
  afterAll(async () => realm?.close());

  /** A DPoP-bound JWT for JWT_RESOURCE, requested with oauth4webapi by `key`. */
  const jwtFor = async (key: DpopKey, tokens: string[]) => {
    const response = await requestDpopToken(realm.issuer, M2M_CLIENT, key, {
      scope: 'read:posts',
      resource: JWT_RESOURCE,
    });
    expect(response).toMatchObject({ tokenType: 'DPoP', attempts: 1 });
    tokens.push(response.accessToken);
    return response.accessToken;
  };

  describe.each(PLATFORMS)("validation: 'jwt' on %s", (platform) => {
    const { ctx, expectNothingSecretLogged } = dpopApp(
      platform,
      () => realm,
      (publicUrl) => ({ dpop: { publicUrl }, introspection: { cacheTtlMs: 0 } }),
    );

    it('a bound JWT with proofs by its key: 200 (the claims carry the key); as Bearer: 401 invalid_token', async () => {
      const key = await createDpopKey();
      const token = await jwtFor(key, ctx.tokens);
      const res = await dpopRequest(`${ctx.url}/posts`, token, key);
      expect(res).toMatchObject({ status: 200, attempts: 1 });
      expect(JSON.parse(res.body)).toEqual({
        client_id: M2M_CLIENT.clientId,
        dpop: { jkt: key.jkt, alg: 'ES256' },
      });
      expect(res.headers.get('dpop-nonce')).toBeNull();
      // A fresh proof for each request (oauth4webapi's own jti), the token's verification cached.
      expect((await dpopRequest(`${ctx.url}/posts?page=2`, token, key)).status).toBe(200);
      expectInvalidToken(await bearer(`${ctx.url}/posts`, token));
      expectNothingSecretLogged();
    });

    it('refuses proofs by another key than the one the realm bound the token to: 401 invalid_token', async () => {
      const token = await jwtFor(await createDpopKey(), ctx.tokens);
      const other = await createDpopKey();
      const res = await dpopRequest(`${ctx.url}/posts`, token, other);
      expectInvalidToken({ status: res.status, challenge: res.headers.get('www-authenticate') });
      expectNothingSecretLogged();
    });

    it('@RequireActiveToken: one introspection (its answer carries the cnf.jkt); revoked at the realm: 401; as Bearer: 401 before asking', async () => {
      const key = await createDpopKey();
      const token = await jwtFor(key, ctx.tokens);
      expect(await realm.introspect(token)).toMatchObject({ active: true, cnf: { jkt: key.jkt } });
      const before = realm.counts.introspect;
      const live = await dpopRequest(`${ctx.url}/live`, token, key);
      expect([live.status, JSON.parse(live.body)]).toEqual([200, { live: true }]);
      expect(realm.counts.introspect - before).toBe(1);
      // The binding is checked before the realm is asked.
      expectInvalidToken(await bearer(`${ctx.url}/live`, token));
      expect(realm.counts.introspect - before).toBe(1);
      await realm.revoke(token);
      const revoked = await dpopRequest(`${ctx.url}/live`, token, key);
      expectInvalidToken({
        status: revoked.status,
        challenge: revoked.headers.get('www-authenticate'),
      });
      expect(JSON.parse(revoked.body).message).toBe('The access token is not active');
      expect(realm.counts.introspect - before).toBe(2);
      // Local validation alone cannot know: the plain route still takes it, with a proof.
      expect((await dpopRequest(`${ctx.url}/posts`, token, key)).status).toBe(200);
      expectNothingSecretLogged();
    });
  });

  describe.each(PLATFORMS)("validation: 'introspection' with opaque tokens on %s", (platform) => {
    const { ctx, expectNothingSecretLogged } = dpopApp(
      platform,
      () => realm,
      (publicUrl) => ({
        audience: OPAQUE_RESOURCE,
        validation: 'introspection',
        introspection: { cacheTtlMs: 0 },
        dpop: { publicUrl },
      }),
    );

    it('an opaque bound token (introspection carries cnf.jkt): 200 with proofs by its key; as Bearer: 401 invalid_token', async () => {
      const key = await createDpopKey();
      const { token } = await realm.issueDpopToken({ resource: OPAQUE_RESOURCE, key });
      ctx.tokens.push(token);
      expect(token.split('.')).toHaveLength(1);
      expect(await realm.introspect(token)).toMatchObject({
        active: true,
        token_type: 'DPoP',
        cnf: { jkt: key.jkt },
      });
      const before = realm.counts.introspect;
      const res = await dpopRequest(`${ctx.url}/posts`, token, key);
      expect(res).toMatchObject({ status: 200, attempts: 1 });
      expect(JSON.parse(res.body).dpop).toEqual({ jkt: key.jkt, alg: 'ES256' });
      expect(realm.counts.introspect - before).toBe(1);
      expectInvalidToken(await bearer(`${ctx.url}/posts`, token));
      const other = await dpopRequest(`${ctx.url}/posts`, token, await createDpopKey());
      expectInvalidToken({
        status: other.status,
        challenge: other.headers.get('www-authenticate'),
      });
      expect(realm.counts.introspect - before).toBe(3);
      expectNothingSecretLogged();
    });
  });

  describe.each(PLATFORMS)('server nonces (dpop.nonce) on %s', (platform) => {
    const { ctx, expectNothingSecretLogged } = dpopApp(
      platform,
      () => realm,
      (publicUrl) => ({ dpop: { publicUrl, nonce: { secrets: [NONCE_SECRET] } } }),
    );
    const nonceRefusals = () => ctx.logs.lines.filter((l) => l.includes('use_dpop_nonce')).length;

    it('oauth4webapi retries once on use_dpop_nonce, then reuses the nonce the 200 sent', async () => {
      const key = await createDpopKey();
      const token = await jwtFor(key, ctx.tokens);
      const first = await dpopRequest(`${ctx.url}/posts`, token, key);
      expect(first).toMatchObject({ status: 200, attempts: 2 });
      expect(first.headers.get('dpop-nonce')).toMatch(/^[\w-]{32}$/);
      expect(first.headers.get('cache-control')).toBe('no-store');
      expect(nonceRefusals()).toBe(1);
      // The nonce of the 200 is cached for the origin: the next requests need no round trip.
      for (const path of ['/posts', '/live']) {
        expect(await dpopRequest(`${ctx.url}${path}`, token, key)).toMatchObject({
          status: 200,
          attempts: 1,
        });
      }
      expect(nonceRefusals()).toBe(1);
      expectNothingSecretLogged();
    });

    it('without the retry, a client with no nonce gets 401 use_dpop_nonce (after the Bearer challenge) and a nonce', async () => {
      const key = await createDpopKey();
      const token = await jwtFor(key, ctx.tokens);
      const before = nonceRefusals();
      const res = await dpopRequest(`${ctx.url}/posts`, token, key, { retryOnNonce: false });
      expect(res).toMatchObject({ status: 401, attempts: 1 });
      expect(res.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="[^"]+", DPoP error="use_dpop_nonce"/,
      );
      expect(res.headers.get('dpop-nonce')).toMatch(/^[\w-]{32}$/);
      expect(nonceRefusals() - before).toBe(1);
      expectNothingSecretLogged();
    });
  });
});
