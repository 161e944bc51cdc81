import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { VerifiedTokenCache } from '../../lib/cache/verified-token.cache';
import { movableClock, skipTime } from '../support/clock';
import { sleep } from '../support/http-stub';
import { realmScenario } from '../support/realm-scenario';

describe('the fast path (Express)', () => {
  describe('verified-token cache', () => {
    movableClock();
    const { ctx, call } = realmScenario(
      'express',
      {},
      { clockTolerance: 0, jwks: { cooldownMs: 0 } },
    );

    it('a token seen again is answered from the cache, without another signature check', async () => {
      const cache = ctx.app.get(VerifiedTokenCache);
      const token = ctx.realm.mint({ scope: 'read:posts' });
      const before = { ...cache.stats };
      for (let i = 0; i < 5; i++) expect((await call(token)).status).toBe(200);
      expect(cache.stats.hits - before.hits).toBe(4);
      expect(cache.stats.misses - before.misses).toBe(1);
    });

    it('a cached token is refused once it expires', async () => {
      const token = ctx.realm.mint({ expiresIn: 1 });
      expect((await call(token)).status).toBe(200);
      expect((await call(token)).status).toBe(200);
      skipTime(1_100);
      const res = await call(token);
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('The access token expired');
    });

    it('a cached token stops working once its key is withdrawn from the JWKS', async () => {
      const token = ctx.realm.mint();
      expect((await call(token)).status).toBe(200);
      expect((await call(token)).status).toBe(200); // now cached
      ctx.realm.rotateKeys({ keepPrevious: false });
      expect((await call(ctx.realm.mint())).status).toBe(200); // the new kid makes the store refetch
      const res = await call(token);
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('The access token signing key is unknown');
    });

    it('the header of a cached token is still parsed in full: anything around it is refused', async () => {
      const token = ctx.realm.mint({ scope: 'read:posts' });
      expect((await call(token)).status).toBe(200); // now cached
      const send = (authorization: string) =>
        request(ctx.app.getHttpServer()).get('/open').set('Authorization', authorization);
      expect((await send(`Bearer ${token} extra`)).status).toBe(400);
      expect((await send(`Bearer ${token},${token}`)).status).toBe(400);
      expect((await send(`Basic ${token}`)).status).toBe(401);
      const hits = ctx.app.get(VerifiedTokenCache).stats.hits;
      expect((await send(`bearer   ${token}  `)).status).toBe(200);
      expect(ctx.app.get(VerifiedTokenCache).stats.hits).toBe(hits + 1);
    });

    it('a tampered copy of a cached token is not a cache hit', async () => {
      const token = ctx.realm.mint();
      expect((await call(token)).status).toBe(200);
      const [h, p, s] = token.split('.');
      const raw = Buffer.from(s, 'base64url');
      raw[0] ^= 1;
      expect((await call(`${h}.${p}.${raw.toString('base64url')}`)).status).toBe(401);
    });
  });

  describe('cache and key set freshness', () => {
    movableClock();
    const { ctx, call } = realmScenario(
      'express',
      {},
      // Two seconds, not one: iat counts whole seconds, so a token minted late in a second is
      // already a second old a few milliseconds later (this test failed that way once).
      { clockTolerance: 0, maxTokenAge: 2, jwks: { cooldownMs: 0, cacheMaxAgeMs: 1_000 } },
    );

    it('a cached token is refused once older than maxTokenAge, though exp is far', async () => {
      const token = ctx.realm.mint({ expiresIn: 3600 });
      expect((await call(token)).status).toBe(200);
      expect((await call(token)).status).toBe(200);
      skipTime(2_100);
      const res = await call(token);
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('The access token is too old');
    });
  });

  describe('key set freshness under cache hits only', () => {
    movableClock();
    const { ctx, call } = realmScenario(
      'express',
      {},
      { jwks: { cooldownMs: 0, cacheMaxAgeMs: 1_000 } },
    );

    it('traffic made only of cache hits still refreshes the key set, so a withdrawn key stops its tokens', async () => {
      const token = ctx.realm.mint();
      expect((await call(token)).status).toBe(200);
      expect((await call(token)).status).toBe(200); // cached
      ctx.realm.rotateKeys({ keepPrevious: false });
      skipTime(1_100); // the fetched set is now older than cacheMaxAgeMs
      const before = ctx.realm.jwksRequests;
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await call(token)).status);
        await sleep(50);
      }
      expect(ctx.realm.jwksRequests).toBeGreaterThan(before);
      expect(statuses.at(-1)).toBe(401);
    });
  });

  const statusOf = (app: { getHttpServer(): { address(): unknown } }) => async (token: string) => {
    const { port } = app.getHttpServer().address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/open`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await res.arrayBuffer();
    return res.status;
  };

  describe('key rotation under load (cool-down 1 s)', () => {
    movableClock();
    const { ctx, call } = realmScenario('express', {}, { jwks: { cooldownMs: 1_000 } });

    it('1,000 concurrent requests carrying a new kid cause exactly one JWKS request', async () => {
      expect((await call(ctx.realm.mint())).status).toBe(200); // warm: the first key is known
      skipTime(1_100); // past the cool-down of that fetch
      ctx.realm.rotateKeys();
      const tokens = Array.from({ length: 1000 }, (_v, i) => ctx.realm.mint({ subject: `u${i}` }));
      const before = ctx.realm.jwksRequests;
      const statuses = await Promise.all(tokens.map(statusOf(ctx.app)));
      expect(statuses.filter((s) => s === 200)).toHaveLength(1000);
      expect(ctx.realm.jwksRequests - before).toBe(1);
    }, 30_000);
  });

  describe('random kid flood (cool-down 30 s)', () => {
    const { ctx, call } = realmScenario('express', {}, { jwks: { cooldownMs: 30_000 } });

    it('10,000 requests with random kids cause no JWKS request within the cool-down, while valid traffic passes', async () => {
      const valid = ctx.realm.mint();
      expect((await call(valid)).status).toBe(200);
      const before = ctx.realm.jwksRequests;
      const status = statusOf(ctx.app);
      for (let batch = 0; batch < 20; batch++) {
        const tokens = Array.from({ length: 500 }, () =>
          ctx.realm.mint({ header: { kid: randomUUID() } }),
        );
        const statuses = await Promise.all(tokens.map(status));
        expect(new Set(statuses)).toEqual(new Set([401]));
        expect(await status(valid)).toBe(200);
      }
      expect(ctx.realm.jwksRequests - before).toBe(0);
    }, 60_000);
  });
});
