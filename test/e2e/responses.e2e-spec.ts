import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { PLATFORMS } from '../support/app';
import { CaptureLogger } from '../support/capture-logger';
import { rawRequest, withTwoAuthorizationFields } from '../support/raw-http';
import { expectRefusal } from '../support/expect-refusal';
import { realmScenario } from '../support/realm-scenario';

describe.each(PLATFORMS)('Bearer parsing, responses and scopes on %s', (platform) => {
  const logger = new CaptureLogger();
  const { ctx } = realmScenario(
    platform,
    { audience: 'https://api.example.test/v1' },
    {},
    { logger },
  );
  const tokens: string[] = [];
  const mint = (...args: Parameters<VoxKeyTestRealm['mint']>) => {
    const token = ctx.realm.mint(...args);
    tokens.push(token);
    return token;
  };
  const get = (path: string, authorization?: string) => {
    const req = request(ctx.app.getHttpServer()).get(path);
    return authorization === undefined ? req : req.set('Authorization', authorization);
  };

  describe('no credentials: 401 "No token" without an error code (RFC 6750 §3.1)', () => {
    it.each([
      ['no header', undefined],
      ['an empty header', ''],
      ['the Basic scheme', 'Basic dXNlcjpwYXNz'],
      ['another scheme', 'DPoP abc.def.ghi'],
      ['a scheme glued to the token', 'Bearerabc.def.ghi'],
    ])('%s', async (_name, authorization) => {
      const res = await get('/open', authorization);
      expectRefusal(
        res,
        401,
        'No token',
        'A Bearer access token is required in the Authorization header',
        'Bearer realm="https://api.example.test/v1"',
      );
    });
  });

  describe('malformed credentials: 400 invalid_request (RFC 6750 §3.1)', () => {
    it.each([
      ['an empty Bearer', 'Bearer '],
      ['only spaces after Bearer', 'Bearer    '],
      ['junk after the token', 'Bearer aaa.bbb.ccc junk'],
      ['two credentials', 'Bearer aaa.bbb.ccc Bearer ddd.eee.fff'],
      ['comma-joined credentials', 'Bearer aaa.bbb.ccc,Bearer ddd.eee.fff'],
      ['a character outside b64token', 'Bearer aaa.bbb.c"c'],
      ['a tab instead of a space', 'Bearer\taaa.bbb.ccc'],
    ])('%s', async (_name, authorization) => {
      const res = await get('/open', authorization);
      expectRefusal(
        res,
        400,
        'Invalid request',
        'The Authorization header is malformed',
        'Bearer realm="https://api.example.test/v1", error="invalid_request", error_description="The Authorization header is malformed"',
      );
    });

    it('two Authorization header fields (raw socket)', async () => {
      const port = (ctx.app.getHttpServer().address() as AddressInfo).port;
      const token = mint();
      const res = await withTwoAuthorizationFields(port, token);
      expect(res.status).toBe(400);
      expect(res.text).not.toContain(token);
    });

    it('one Authorization field over the raw socket is accepted', async () => {
      const port = (ctx.app.getHttpServer().address() as AddressInfo).port;
      const res = await rawRequest(port, [
        'GET /open HTTP/1.1',
        'Host: 127.0.0.1',
        `Authorization: Bearer ${mint()}`,
      ]);
      expect(res.status).toBe(200);
    });
  });

  describe('scheme and spacing', () => {
    it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('scheme %s is accepted', async (scheme) => {
      expect((await get('/open', `${scheme} ${mint()}`)).status).toBe(200);
    });
    it('several spaces before the token are accepted (1*SP)', async () => {
      expect((await get('/open', `Bearer   ${mint()}`)).status).toBe(200);
    });
    it('the token is not read from the query string', async () => {
      const res = await request(ctx.app.getHttpServer()).get(`/open?access_token=${mint()}`);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('No token');
    });
  });

  describe('oversized credentials', () => {
    it('a 16 KB header is refused with 400, 401 or 431 and never reaches a handler', async () => {
      const res = await get('/open', `Bearer ${'a'.repeat(16 * 1024)}`);
      expect([400, 401, 431]).toContain(res.status);
    });
    it('a long header of another scheme is still "No token"', async () => {
      const res = await get('/open', `Negotiate ${'a'.repeat(10_000)}`);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('No token');
    });
    it('a 9,000-character token is refused as too large (401 invalid_token)', async () => {
      const res = await get('/open', `Bearer ${'a'.repeat(9000)}`);
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('The access token is too large');
    });
  });

  describe('invalid token: 401 invalid_token with a fixed description', () => {
    it('never echoes the token', async () => {
      const token = mint({ claims: { aud: 'https://other.example.test' } });
      const res = await get('/open', `Bearer ${token}`);
      expectRefusal(
        res,
        401,
        'Invalid token',
        'The access token audience is not accepted',
        'Bearer realm="https://api.example.test/v1", error="invalid_token", error_description="The access token audience is not accepted"',
      );
      for (const part of token.split('.')) expect(res.text).not.toContain(part);
    });
  });

  describe('public routes', () => {
    it('@Public() on a handler skips authentication', async () => {
      expect((await get('/public')).status).toBe(200);
      expect((await get('/public', 'Bearer garbage junk')).status).toBe(200);
    });
    it('@Public() on a controller skips authentication', async () => {
      expect((await get('/status')).status).toBe(200);
    });
  });

  describe('scopes', () => {
    it('a token holding the scope passes', async () => {
      expect((await get('/posts', `Bearer ${mint({ scope: 'openid read:posts' })}`)).status).toBe(
        200,
      );
    });
    it.each([
      ['no scope claim', undefined],
      ['another scope', 'write:posts'],
      ['a case variant', 'Read:posts'],
      ['a prefix', 'read:post'],
      ['a longer scope', 'read:posts:all'],
      ['a comma-separated list', 'openid,read:posts'],
    ])('%s: 403 insufficient_scope', async (_name, scope) => {
      const res = await get('/posts', `Bearer ${mint({ scope })}`);
      expectRefusal(
        res,
        403,
        'Insufficient scope',
        'The access token lacks a required scope',
        'Bearer realm="https://api.example.test/v1", error="insufficient_scope", error_description="The access token lacks a required scope", scope="read:posts"',
      );
    });
    it('a non-string scope grants nothing (403)', async () => {
      const token = mint({ claims: { scope: ['read:posts'] } });
      expect((await get('/posts', `Bearer ${token}`)).status).toBe(403);
    });
    it('scp as a list is read when scope is absent', async () => {
      expect(
        (await get('/posts', `Bearer ${mint({ claims: { scp: ['read:posts'] } })}`)).status,
      ).toBe(200);
      expect(
        (await get('/posts', `Bearer ${mint({ claims: { scp: 'x read:posts' } })}`)).status,
      ).toBe(200);
    });
    it('authentication fails before scopes are checked (401, not 403)', async () => {
      const token = mint({ scope: 'write:posts', expiresIn: -60 });
      expect((await get('/posts', `Bearer ${token}`)).status).toBe(401);
    });
    it('controller and handler scopes both apply', async () => {
      expect((await get('/admin', `Bearer ${mint({ scope: 'admin' })}`)).status).toBe(200);
      expect((await get('/admin', `Bearer ${mint({ scope: 'write:posts' })}`)).status).toBe(403);
      expect((await get('/admin/write', `Bearer ${mint({ scope: 'admin' })}`)).status).toBe(403);
      expect((await get('/admin/write', `Bearer ${mint({ scope: 'write:posts' })}`)).status).toBe(
        403,
      );
      expect(
        (await get('/admin/write', `Bearer ${mint({ scope: 'admin write:posts' })}`)).status,
      ).toBe(200);
      const res = await get('/admin/write', `Bearer ${mint({ scope: 'admin' })}`);
      expect(res.headers['www-authenticate']).toContain('scope="admin write:posts"');
    });
    it('@AnyScope needs one of its scopes', async () => {
      expect((await get('/any', `Bearer ${mint({ scope: 'b' })}`)).status).toBe(200);
      expect((await get('/any', `Bearer ${mint({ scope: 'a b' })}`)).status).toBe(200);
      const res = await get('/any', `Bearer ${mint({ scope: 'c' })}`);
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toContain('scope="a b"');
    });
    it('stacked @Scopes all apply', async () => {
      expect((await get('/stacked', `Bearer ${mint({ scope: 'a b' })}`)).status).toBe(200);
      expect((await get('/stacked', `Bearer ${mint({ scope: 'a' })}`)).status).toBe(403);
      expect((await get('/stacked', `Bearer ${mint({ scope: 'b' })}`)).status).toBe(403);
    });
    it('stacked @AnyScope lists must each be met', async () => {
      expect((await get('/stacked-any', `Bearer ${mint({ scope: 'a d' })}`)).status).toBe(200);
      expect((await get('/stacked-any', `Bearer ${mint({ scope: 'a b' })}`)).status).toBe(403);
      expect((await get('/stacked-any', `Bearer ${mint({ scope: 'c' })}`)).status).toBe(403);
    });
    it("a subclassed controller keeps its parent's scopes and adds its own", async () => {
      expect((await get('/super-admin', `Bearer ${mint({ scope: 'admin super' })}`)).status).toBe(
        200,
      );
      expect((await get('/super-admin', `Bearer ${mint({ scope: 'super' })}`)).status).toBe(403);
      expect((await get('/super-admin', `Bearer ${mint({ scope: 'admin' })}`)).status).toBe(403);
    });
    it('@AnyScope on a handler adds to the controller @Scopes', async () => {
      expect((await get('/admin/either', `Bearer ${mint({ scope: 'admin y' })}`)).status).toBe(200);
      expect((await get('/admin/either', `Bearer ${mint({ scope: 'y' })}`)).status).toBe(403);
      expect((await get('/admin/either', `Bearer ${mint({ scope: 'admin' })}`)).status).toBe(403);
    });
  });

  describe('claims for the handler', () => {
    it('req.user and @VoxKeyUser() hold the decoded claims', async () => {
      const token = mint({
        subject: 'user-42',
        scope: 'openid',
        claims: { email: 'a@example.test' },
      });
      const res = await get('/me', `Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        sub: 'user-42',
        iss: ctx.realm.issuer,
        aud: 'https://api.example.test/v1',
        scope: 'openid',
        email: 'a@example.test',
      });
    });
    it("@VoxKeyUser('sub') returns one claim", async () => {
      const res = await get('/me/sub', `Bearer ${mint({ subject: 'user-7' })}`);
      expect(res.body).toEqual({ sub: 'user-7' });
    });
  });

  it('logs reasons at debug level and never a token', () => {
    expect(logger.lines.some((line) => line.startsWith('debug') && line.includes('Rejected'))).toBe(
      true,
    );
    for (const token of tokens) {
      for (const part of token.split('.')) {
        expect(logger.lines.filter((line) => line.includes(part))).toEqual([]);
      }
    }
  });
});
