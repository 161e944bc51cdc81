import { Controller, Get, type INestApplication, Req, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import passport from 'passport';
import request from 'supertest';
import { VoxKeyAuthGuard, VoxKeyModule } from '../../lib/index';
import { VerifiedTokenCache } from '../../lib/cache/verified-token.cache';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { createApp, PLATFORMS } from '../support/app';
import { compact, payloadOf } from '../support/token-forge';

/**
 * On a cache miss VoxKeyAuthGuard authenticates through Passport's public
 * `passport.authenticate('voxkey-jwt')`, like the stock `AuthGuard('voxkey-jwt')`. Both must
 * reach the same verdict on every token fault, with the same claims. (Outages differ: the stock
 * guard knows no 503; see the README's Guards section.)
 */
@Controller()
class ParityController {
  @Get('through-passport')
  @UseGuards(AuthGuard('voxkey-jwt'))
  viaPassport(@Req() req: { user: unknown }) {
    return req.user;
  }

  @Get('through-guard')
  @UseGuards(VoxKeyAuthGuard)
  viaGuard(@Req() req: { user: unknown }) {
    return req.user;
  }
}

describe.each(PLATFORMS)(
  'the strategy through Passport and through VoxKeyAuthGuard (%s)',
  (platform) => {
    let realm: VoxKeyTestRealm;
    let app: INestApplication;
    beforeAll(async () => {
      realm = await VoxKeyTestRealm.start();
      app = await createApp(
        platform,
        [
          VoxKeyModule.forRoot({
            // No cool-down: a new kid is looked up at once, so the outage test reaches the realm.
            ...realm.moduleOptions({ clockTolerance: 0, jwks: { cooldownMs: 0 } }),
            globalGuard: false,
          }),
        ],
        [ParityController],
      );
    });
    let authenticate: jest.SpyInstance;
    beforeEach(() => {
      authenticate = jest.spyOn(passport, 'authenticate');
    });
    afterEach(() => authenticate.mockRestore());
    afterAll(async () => {
      await app?.close();
      await realm?.close();
    });

    const get = (path: string, token: string) =>
      request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

    const cases: [string, () => string, boolean][] = [
      ['a valid token', () => realm.mint({ scope: 'read:posts' }), true],
      ['an expired token', () => realm.mint({ expiresIn: -10 }), false],
      ['another audience', () => realm.mint({ claims: { aud: 'https://other.example' } }), false],
      [
        'another issuer',
        () => realm.mint({ claims: { iss: 'https://evil.example/oauth2/x' } }),
        false,
      ],
      [
        'a token not valid yet',
        () => realm.mint({ claims: { nbf: Math.floor(Date.now() / 1000) + 600 } }),
        false,
      ],
      [
        'a tampered payload',
        () => {
          const [h, , s] = realm.mint().split('.');
          const payload = { ...payloadOf(realm.mint()), sub: 'admin' };
          return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
        },
        false,
      ],
      ['an unknown kid', () => realm.mint({ header: { kid: 'no-such-kid' } }), false],
      [
        'alg none',
        () => compact({ alg: 'none', kid: realm.currentKid }, payloadOf(realm.mint())),
        false,
      ],
      ['a token carrying cnf', () => realm.mint({ claims: { cnf: { jkt: 'abc' } } }), false],
      ['a token without exp', () => realm.mint({ claims: { exp: undefined } }), false],
      [
        'iat in the future',
        () => realm.mint({ claims: { iat: Math.floor(Date.now() / 1000) + 600 } }),
        false,
      ],
      ['a sub that is not a string', () => realm.mint({ claims: { sub: 42 } }), false],
    ];

    it.each(cases)('%s: both paths give the same verdict', async (_name, make, accepted) => {
      const token = make();
      const cache = app.get(VerifiedTokenCache);
      const misses = cache.stats.misses;
      // The guard first, so it verifies the token itself (a cache miss), not from the cache.
      const passportCalls = authenticate.mock.calls.length;
      const viaGuard = await get('/through-guard', token);
      expect(cache.stats.misses).toBe(misses + 1);
      // Both went through Passport's public entry point, with the same strategy.
      expect(authenticate.mock.calls.slice(passportCalls).map((call) => call[0])).toEqual([
        'voxkey-jwt',
      ]);
      const viaPassport = await get('/through-passport', token);
      expect(authenticate.mock.calls.slice(passportCalls).map((call) => call[0])).toEqual([
        'voxkey-jwt',
        'voxkey-jwt',
      ]);
      expect(viaGuard.status === 200).toBe(accepted);
      expect(viaPassport.status === 200).toBe(accepted);
      if (accepted) {
        expect(viaGuard.body).toEqual(viaPassport.body);
        expect(viaGuard.body.sub).toBe('test-user');
      } else {
        expect(viaGuard.status).toBe(401);
        expect(viaPassport.status).toBe(401);
      }
    });

    // Last: it stops the realm. What the README says of the stock guard during an outage.
    it('a JWKS outage: VoxKeyAuthGuard answers 503 with Retry-After, the stock guard 401, neither 500 nor 200', async () => {
      realm.rotateKeys();
      const token = realm.mint(); // signed with a key the guard has not fetched yet
      await realm.close();
      const viaGuard = await get('/through-guard', token);
      expect(viaGuard.status).toBe(503);
      expect(viaGuard.headers['retry-after']).toMatch(/^\d+$/);
      expect((await get('/through-passport', token)).status).toBe(401);
    });
  },
);
