import { Controller, Get, type INestApplication, Post } from '@nestjs/common';
import request from 'supertest';
import { Scopes, VoxKeyModule, VoxKeyUser, type VoxKeyClaims } from '../../lib/index';
import { DpopTestKey, VoxKeyTestRealm } from '../../lib/testing/index';
import { SUPPORTED_ALGORITHMS } from '../../lib/voxkey.constants';
import { DpopNonces } from '../../lib/dpop/dpop-nonce';
import type { VoxKeyModuleOptions } from '../../lib/interfaces/voxkey-module-options.interface';
import { createApp, PLATFORMS, type Platform } from '../support/app';
import { CaptureLogger } from '../support/capture-logger';
import { rawRequest } from '../support/raw-http';

const PUBLIC = 'https://api.example.com';
const ALGS = `algs="${SUPPORTED_ALGORITHMS.join(' ')}"`;

@Controller('posts')
class PostsController {
  @Get()
  @Scopes('read:posts')
  list(@VoxKeyUser() user: VoxKeyClaims): { sub: string | undefined; dpop: unknown } {
    return { sub: user.sub, dpop: user.dpop ?? null };
  }

  @Post()
  @Scopes('write:posts')
  create(): { ok: true } {
    return { ok: true };
  }
}

/** The value of one auth-param of the challenge of `scheme` in a WWW-Authenticate value. */
function challengeParam(header: string | undefined, scheme: 'Bearer' | 'DPoP', name: string) {
  const text = header ?? '';
  const start = scheme === 'Bearer' ? text.indexOf('Bearer ') : text.indexOf('DPoP ');
  if (start === -1) return undefined;
  const rest = text.slice(start);
  const end = scheme === 'Bearer' ? rest.indexOf(', DPoP ') : -1;
  const own = end === -1 ? rest : rest.slice(0, end);
  return new RegExp(`${name}="([^"]*)"`).exec(own)?.[1];
}

/** Starts a realm and an app with `dpop` options; everything the tests send and log is kept. */
function dpopScenario(platform: Platform, options: Partial<VoxKeyModuleOptions> = {}) {
  const ctx = {} as { realm: VoxKeyTestRealm; app: INestApplication; logs: CaptureLogger };
  const secrets: string[] = [];
  beforeAll(async () => {
    ctx.realm = await VoxKeyTestRealm.start();
    ctx.logs = new CaptureLogger();
    ctx.app = await createApp(
      platform,
      [VoxKeyModule.forRoot(ctx.realm.moduleOptions({ dpop: { publicUrl: PUBLIC }, ...options }))],
      [PostsController],
      ctx.logs,
    );
    ctx.app.useLogger(ctx.logs);
  });
  afterAll(async () => {
    // No token, proof or nonce the tests sent was ever logged.
    expect(ctx.logs.lines.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      for (const line of ctx.logs.lines) expect(line).not.toContain(secret);
    }
    await ctx.app?.close();
    await ctx.realm?.close();
  });
  const http = () => request(ctx.app.getHttpServer());
  /** A bound token and a proof for it, both remembered for the log check. */
  const bound = (key: DpopTestKey, scope = 'read:posts') => {
    const token = ctx.realm.mint({ scope, dpopKey: key });
    secrets.push(token);
    return token;
  };
  const proof = (key: DpopTestKey, ...args: Parameters<DpopTestKey['proof']>) => {
    const value = key.proof(...args);
    secrets.push(value);
    return value;
  };
  /** GET /posts with `DPoP <token>` and the given proof (none when undefined). */
  const get = (token: string, dpop?: string, scheme = 'DPoP', path = '/posts') => {
    const req = http().get(path).set('Authorization', `${scheme} ${token}`);
    return dpop === undefined ? req : req.set('DPoP', dpop);
  };
  return { ctx, http, bound, proof, get, secrets };
}

describe.each(PLATFORMS)('DPoP (RFC 9449) on %s', (platform) => {
  const { ctx, http, bound, proof, get } = dpopScenario(platform);
  const key = DpopTestKey.generate();
  const url = `${PUBLIC}/posts`;

  it('accepts a bound token with a proof by its key; the claims carry the key, no nonce is sent', async () => {
    const token = bound(key);
    const res = await get(token, proof(key, 'GET', url, { accessToken: token }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'test-user', dpop: { jkt: key.jkt, alg: 'ES256' } });
    expect(res.headers['dpop-nonce']).toBeUndefined();
  });

  it.each([['dpop'], ['DPOP'], ['DpOp']])('reads the scheme in any case (%s)', async (scheme) => {
    const token = bound(key);
    const res = await get(token, proof(key, 'GET', url, { accessToken: token }), scheme);
    expect(res.status).toBe(200);
  });

  it('ignores the query of the request (htu has none)', async () => {
    const token = bound(key);
    const res = await get(
      token,
      proof(key, 'GET', url, { accessToken: token }),
      'DPoP',
      '/posts?page=2',
    );
    expect(res.status).toBe(200);
  });

  it('refuses a bound token sent as Bearer, with or without a proof: 401 invalid_token', async () => {
    const token = bound(key);
    for (const dpop of [undefined, proof(key, 'GET', url, { accessToken: token })]) {
      const res = await get(token, dpop, 'Bearer');
      expect(res.status).toBe(401);
      expect(challengeParam(res.headers['www-authenticate'], 'Bearer', 'error')).toBe(
        'invalid_token',
      );
      expect(res.headers['www-authenticate']).toMatch(new RegExp(`, DPoP ${ALGS}$`));
    }
  });

  it('refuses an unbound token under the DPoP scheme, even with a valid proof: 401 invalid_token', async () => {
    const token = ctx.realm.mint({ scope: 'read:posts' });
    const res = await get(token, proof(key, 'GET', url, { accessToken: token }));
    expect(res.status).toBe(401);
    expect(challengeParam(res.headers['www-authenticate'], 'Bearer', 'error')).toBe(
      'invalid_token',
    );
  });

  it('accepts an unbound Bearer token as before', async () => {
    const token = ctx.realm.mint({ scope: 'read:posts' });
    const res = await get(token, undefined, 'Bearer');
    expect(res.status).toBe(200);
    expect(res.body.dpop).toBeNull();
  });

  it('refuses a bound token without a proof: 401 invalid_dpop_proof on the DPoP challenge, after the Bearer one', async () => {
    const res = await get(bound(key));
    expect(res.status).toBe(401);
    const header = res.headers['www-authenticate'];
    expect(header).toMatch(/^Bearer realm="[^"]+", DPoP error="invalid_dpop_proof"/);
    expect(challengeParam(header, 'DPoP', 'algs')).toBe(SUPPORTED_ALGORITHMS.join(' '));
    expect(challengeParam(header, 'Bearer', 'error')).toBeUndefined();
    expect(res.body).toEqual({
      statusCode: 401,
      error: 'Invalid DPoP proof',
      message: 'The DPoP proof is invalid',
    });
  });

  const defects: [string, (token: string) => string][] = [
    ['typ JWT', (t) => proof(key, 'GET', url, { accessToken: t, header: { typ: 'JWT' } })],
    ['alg none', (t) => proof(key, 'GET', url, { accessToken: t, header: { alg: 'none' } })],
    [
      'a private jwk',
      (t) =>
        proof(key, 'GET', url, {
          accessToken: t,
          header: { jwk: { ...key.publicJwk, d: 'AAAA' } },
        }),
    ],
    ['htm POST on a GET', (t) => proof(key, 'POST', url, { accessToken: t })],
    ['htu of another path', (t) => proof(key, 'GET', `${PUBLIC}/admin`, { accessToken: t })],
    [
      'htu of another host',
      (t) => proof(key, 'GET', 'https://evil.example/posts', { accessToken: t }),
    ],
    [
      'iat 301 s old',
      (t) => proof(key, 'GET', url, { accessToken: t, iat: Math.floor(Date.now() / 1000) - 301 }),
    ],
    ['ath of another token', (t) => proof(key, 'GET', url, { accessToken: `${t}x` })],
    ['no ath (a token request proof)', () => proof(key, 'POST', `${PUBLIC}/token`)],
    ['a JWE', () => 'a.b.c.d.e'],
    // Over the 8 KiB cap, under Node's own 16 KiB header limit (which answers 431 by itself).
    ['9 KB of junk', () => 'A'.repeat(9_000)],
  ];
  it.each(defects)('refuses a proof with %s: 401 invalid_dpop_proof', async (_, make) => {
    const token = bound(key);
    const res = await get(token, make(token));
    expect(res.status).toBe(401);
    expect(challengeParam(res.headers['www-authenticate'], 'DPoP', 'error')).toBe(
      'invalid_dpop_proof',
    );
  });

  it('refuses a valid proof by another key than the token is bound to: 401 invalid_token', async () => {
    const other = DpopTestKey.generate();
    const token = bound(key);
    const res = await get(token, proof(other, 'GET', url, { accessToken: token }));
    expect(res.status).toBe(401);
    expect(challengeParam(res.headers['www-authenticate'], 'Bearer', 'error')).toBe(
      'invalid_token',
    );
  });

  it('builds htu from the configured URL: a spoofed Host or X-Forwarded-Host matching the proof is refused', async () => {
    const token = bound(key);
    const forged = proof(key, 'GET', 'https://evil.example/posts', { accessToken: token });
    const res = await get(token, forged)
      .set('Host', 'evil.example')
      .set('X-Forwarded-Host', 'evil.example')
      .set('X-Forwarded-Proto', 'https');
    expect(res.status).toBe(401);
  });

  it('refuses two DPoP headers, and one holding a list', async () => {
    const token = bound(key);
    const a = proof(key, 'GET', url, { accessToken: token });
    const b = proof(key, 'GET', url, { accessToken: token });
    const address = ctx.app.getHttpServer().address() as { port: number };
    const two = await rawRequest(address.port, [
      'GET /posts HTTP/1.1',
      'Host: 127.0.0.1',
      `Authorization: DPoP ${token}`,
      `DPoP: ${a}`,
      `DPoP: ${b}`,
    ]);
    expect(two.status).toBe(401);
    expect(two.text).toContain('error="invalid_dpop_proof"');
    expect((await get(token, `${a}, ${b}`)).status).toBe(401);
  });

  it('accepts a proof once: the same proof again is refused, also from the cached verification', async () => {
    const token = bound(key);
    const once = proof(key, 'GET', url, { accessToken: token });
    expect((await get(token, once)).status).toBe(200);
    const again = await get(token, once);
    expect(again.status).toBe(401);
    expect(challengeParam(again.headers['www-authenticate'], 'DPoP', 'error')).toBe(
      'invalid_dpop_proof',
    );
    // The token's verification is cached by now; the proof is still checked on every request.
    expect((await get(token)).status).toBe(401);
    expect((await get(token, proof(key, 'GET', url, { accessToken: token }))).status).toBe(200);
  });

  it('lets exactly one of 20 concurrent copies of a proof through', async () => {
    const token = bound(key);
    const once = proof(key, 'GET', url, { accessToken: token });
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => get(token, once).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(19);
  });

  it("keys the replay cache by the proof key: an attacker's proof with the victim's jti uses nothing up", async () => {
    const attacker = DpopTestKey.generate();
    const attackerToken = bound(attacker);
    const victimToken = bound(key);
    const jti = 'shared-jti-1';
    expect(
      (await get(attackerToken, proof(attacker, 'GET', url, { accessToken: attackerToken, jti })))
        .status,
    ).toBe(200);
    expect(
      (await get(victimToken, proof(key, 'GET', url, { accessToken: victimToken, jti }))).status,
    ).toBe(200);
  });

  it('counts a proof the guard accepted as used, even when a later guard refuses the request', async () => {
    const token = bound(key, 'read:posts');
    const forPost = proof(key, 'POST', `${PUBLIC}/posts`, { accessToken: token });
    const post = () =>
      http().post('/posts').set('Authorization', `DPoP ${token}`).set('DPoP', forPost);
    // VoxKeyAuthGuard accepts (and records) the proof; ScopesGuard refuses: no write:posts.
    expect((await post()).status).toBe(403);
    const again = await post();
    expect(again.status).toBe(401);
    expect(challengeParam(again.headers['www-authenticate'], 'DPoP', 'error')).toBe(
      'invalid_dpop_proof',
    );
  });

  it('never passes a bound token to a route guarded by plain Passport (no binding check there)', async () => {
    // Covered in strategy-parity.e2e-spec: here, the guard's own 401 for a bound Bearer token.
    const res = await get(bound(key), undefined, 'Bearer');
    expect(res.status).toBe(401);
  });
});

describe.each(PLATFORMS)("DPoP mode 'required' on %s", (platform) => {
  const { ctx, bound, proof, get } = dpopScenario(platform, {
    dpop: { publicUrl: PUBLIC, mode: 'required' },
  });

  it('refuses a bound token sent as Bearer here too', async () => {
    const key = DpopTestKey.generate();
    const res = await get(bound(key), undefined, 'Bearer');
    expect(res.status).toBe(401);
    expect(challengeParam(res.headers['www-authenticate'], 'Bearer', 'error')).toBe(
      'invalid_token',
    );
  });

  it('refuses Bearer tokens, accepts DPoP ones', async () => {
    const token = ctx.realm.mint({ scope: 'read:posts' });
    const res = await get(token, undefined, 'Bearer');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain(`DPoP ${ALGS}`);
    const key = DpopTestKey.generate('EdDSA');
    const bt = bound(key);
    expect((await get(bt, proof(key, 'GET', `${PUBLIC}/posts`, { accessToken: bt }))).status).toBe(
      200,
    );
  });
});

describe.each(PLATFORMS)("DPoP mode 'off' on %s", (platform) => {
  const { ctx, bound, proof, get } = dpopScenario(platform, { dpop: { mode: 'off' } });

  it('does not read the DPoP scheme, and still refuses bound tokens sent as Bearer', async () => {
    const key = DpopTestKey.generate();
    const token = bound(key);
    const asDpop = await get(token, proof(key, 'GET', `${PUBLIC}/posts`, { accessToken: token }));
    expect(asDpop.status).toBe(401);
    expect(asDpop.headers['www-authenticate']).not.toContain('DPoP');
    expect(challengeParam(asDpop.headers['www-authenticate'], 'Bearer', 'error')).toBeUndefined();
    const asBearer = await get(token, undefined, 'Bearer');
    expect(asBearer.status).toBe(401);
    expect(challengeParam(asBearer.headers['www-authenticate'], 'Bearer', 'error')).toBe(
      'invalid_token',
    );
    expect(ctx.realm).toBeDefined();
  });
});

describe.each(PLATFORMS)('DPoP server nonces on %s', (platform) => {
  const SECRET = 'nonce-secret-of-at-least-32-bytes-long';
  const PREVIOUS = 'the-previous-nonce-secret-being-rotated-out';
  const { ctx, bound, proof, get } = dpopScenario(platform, {
    dpop: { publicUrl: PUBLIC, nonce: { secrets: [SECRET, PREVIOUS] } },
  });
  const now = () => Math.floor(Date.now() / 1000);
  const key = DpopTestKey.generate();
  const url = `${PUBLIC}/posts`;

  it('asks for a nonce, accepts the retry with it and sends the next one, no-store', async () => {
    const token = bound(key);
    const first = await get(token, proof(key, 'GET', url, { accessToken: token }));
    expect(first.status).toBe(401);
    expect(first.headers['www-authenticate']).toMatch(
      /^Bearer realm="[^"]+", DPoP error="use_dpop_nonce"/,
    );
    expect(first.headers['cache-control']).toBe('no-store');
    const nonce = first.headers['dpop-nonce'];
    expect(nonce).toMatch(/^[\w-]{32}$/);
    const retry = await get(token, proof(key, 'GET', url, { accessToken: token, nonce }));
    expect(retry.status).toBe(200);
    expect(retry.headers['dpop-nonce']).toMatch(/^[\w-]{32}$/);
    expect(retry.headers['cache-control']).toBe('no-store');
    // The nonce is for the origin: another route of it takes it too.
    const again = await get(
      token,
      proof(key, 'GET', url, { accessToken: token, nonce: retry.headers['dpop-nonce'] }),
    );
    expect(again.status).toBe(200);
  });

  it('refuses a forged nonce or one of another deployment, with a fresh one', async () => {
    const token = bound(key);
    for (const nonce of ['A'.repeat(32), 'not-a-nonce']) {
      const res = await get(token, proof(key, 'GET', url, { accessToken: token, nonce }));
      expect(res.status).toBe(401);
      expect(challengeParam(res.headers['www-authenticate'], 'DPoP', 'error')).toBe(
        'use_dpop_nonce',
      );
      expect(res.headers['dpop-nonce']).toMatch(/^[\w-]{32}$/);
    }
  });

  it('refuses a stale nonce (older than its lifetime) and accepts one of the previous secret during a rotation', async () => {
    const token = bound(key);
    const stale = new DpopNonces([Buffer.from(SECRET)], 300).issue(now() - 301);
    const refused = await get(token, proof(key, 'GET', url, { accessToken: token, nonce: stale }));
    expect(refused.status).toBe(401);
    expect(challengeParam(refused.headers['www-authenticate'], 'DPoP', 'error')).toBe(
      'use_dpop_nonce',
    );
    const fromPrevious = new DpopNonces([Buffer.from(PREVIOUS)], 300).issue(now());
    const accepted = await get(
      token,
      proof(key, 'GET', url, { accessToken: token, nonce: fromPrevious }),
    );
    expect(accepted.status).toBe(200);
    // New nonces are signed with the first secret only.
    expect(new DpopNonces([Buffer.from(SECRET)], 300).accepts(accepted.headers['dpop-nonce'])).toBe(
      true,
    );
    expect(
      new DpopNonces([Buffer.from(PREVIOUS)], 300).accepts(accepted.headers['dpop-nonce']),
    ).toBe(false);
  });

  it('refuses a retry that resends the identical proof (same jti) as a replay', async () => {
    const token = bound(key);
    const first = await get(token, proof(key, 'GET', url, { accessToken: token }));
    const withNonce = proof(key, 'GET', url, {
      accessToken: token,
      nonce: first.headers['dpop-nonce'],
    });
    expect((await get(token, withNonce)).status).toBe(200);
    const replay = await get(token, withNonce);
    expect(replay.status).toBe(401);
    expect(challengeParam(replay.headers['www-authenticate'], 'DPoP', 'error')).toBe(
      'invalid_dpop_proof',
    );
    expect(ctx.realm).toBeDefined();
  });
});
