import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { VoxKeyModuleOptions } from '../../lib/index';
import { signJws, type TestRealmOptions } from '../../lib/testing/index';
import { PLATFORMS, type Platform } from '../support/app';
import { HttpStub } from '../support/http-stub';
import { realmScenario } from '../support/realm-scenario';
import { b64url, compact, hmacForge, payloadOf, validClaims } from '../support/token-forge';

const AUDIENCE = 'https://api.example.test/v1';
const now = () => Math.floor(Date.now() / 1000);
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attackerEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const scenario = (
  platform: Platform,
  realmOptions: TestRealmOptions = {},
  options: Partial<VoxKeyModuleOptions> = {},
) => realmScenario(platform, { audience: AUDIENCE, ...realmOptions }, options);

describe.each(PLATFORMS)('JWT validation on %s', (platform) => {
  let tracker: HttpStub;
  beforeAll(async () => {
    tracker = await HttpStub.start();
  });
  afterAll(async () => tracker?.close());

  describe('default options (RS256)', () => {
    const { ctx, call } = scenario(platform);
    const expect401 = async (token: string, message?: string) => {
      const res = await call(token);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('Invalid token');
      if (message) expect(res.body.message).toBe(message);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
      return res;
    };
    const realmPayload = (overrides: Record<string, unknown> = {}) =>
      validClaims(ctx.realm.issuer, AUDIENCE, overrides);

    it('accepts a valid token', async () => {
      expect((await call(ctx.realm.mint())).status).toBe(200);
    });

    describe('signature', () => {
      it('a bit-flipped signature is refused', async () => {
        const [h, p, s] = ctx.realm.mint().split('.');
        const raw = Buffer.from(s, 'base64url');
        raw[10] ^= 0x01;
        await expect401(
          `${h}.${p}.${raw.toString('base64url')}`,
          'The access token signature is invalid',
        );
      });
      it('a signature spliced from another valid token is refused', async () => {
        const [h, p] = ctx.realm.mint({ subject: 'a' }).split('.');
        const [, , s] = ctx.realm.mint({ subject: 'b' }).split('.');
        await expect401(`${h}.${p}.${s}`, 'The access token signature is invalid');
      });
      it("a token signed by another key under the realm's kid is refused", async () => {
        const token = signJws(
          { alg: 'RS256', typ: 'at+jwt', kid: ctx.realm.currentKid },
          realmPayload(),
          attacker.privateKey,
          'RS256',
        );
        await expect401(token, 'The access token signature is invalid');
      });
      it('a modified payload is refused', async () => {
        const [h, , s] = ctx.realm.mint({ scope: 'a' }).split('.');
        await expect401(`${h}.${b64url(realmPayload({ scope: 'admin' }))}.${s}`);
      });
    });

    describe('algorithms (RFC 8725 §3.1)', () => {
      it.each(['none', 'None', 'NONE', 'nOnE'])(
        'alg %s is refused, with or without a signature',
        async (alg) => {
          const header = { alg, typ: 'at+jwt', kid: ctx.realm.currentKid };
          await expect401(compact(header, realmPayload(), ''));
          await expect401(compact(header, realmPayload(), 'c2ln'));
        },
      );
      it('a missing or non-string alg is refused', async () => {
        await expect401(
          compact({ typ: 'at+jwt', kid: ctx.realm.currentKid }, realmPayload(), 'c2ln'),
        );
        await expect401(compact({ alg: 256, kid: ctx.realm.currentKid }, realmPayload(), 'c2ln'));
        await expect401(
          compact({ alg: ['RS256'], kid: ctx.realm.currentKid }, realmPayload(), 'c2ln'),
        );
      });
      it('HS256/384/512 keyed with the public key as SPKI PEM, PKCS#1 PEM, JWK and JWKS JSON are refused', async () => {
        const jwk = ctx.realm.jwks.keys[0];
        const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
        const secrets = [
          publicKey.export({ type: 'spki', format: 'pem' }) as string,
          publicKey.export({ type: 'pkcs1', format: 'pem' }) as string,
          JSON.stringify(jwk),
          JSON.stringify(ctx.realm.jwks),
        ];
        for (const secret of secrets) {
          for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
            const res = await expect401(
              hmacForge(alg, { typ: 'at+jwt', kid: ctx.realm.currentKid }, realmPayload(), secret),
            );
            expect(res.body.message).toBe('The access token algorithm is not accepted');
          }
        }
      });
      it('an algorithm outside the allow-list is refused even with a valid signature', async () => {
        const token = ctx.realm.mint({ header: { alg: 'RS384' } });
        await expect401(token, 'The access token algorithm is not accepted');
      });
    });

    describe('header', () => {
      it.each(['at+jwt', 'application/at+jwt', 'AT+JWT', 'JWT', 'jwt'])(
        'typ %s is accepted',
        async (typ) => {
          expect((await call(ctx.realm.mint({ header: { typ } }))).status).toBe(200);
        },
      );
      it('a missing typ is accepted', async () => {
        expect((await call(ctx.realm.mint({ header: { typ: undefined } }))).status).toBe(200);
      });
      it.each([['dpop+jwt'], ['id_token'], ['JOSE'], [42]])('typ %s is refused', async (typ) => {
        await expect401(
          ctx.realm.mint({ header: { typ } }),
          'The access token type is not accepted',
        );
      });
      it('a crit header is refused, even one naming a registered parameter (RFC 7515 §4.1.11)', async () => {
        await expect401(
          ctx.realm.mint({ header: { crit: ['exp'], exp: 1 } }),
          'The access token has unsupported critical header parameters',
        );
        await expect401(ctx.realm.mint({ header: { b64: false, crit: ['b64'] } }));
        await expect401(ctx.realm.mint({ header: { b64: false } }));
      });
      it('a nested JWT (cty: JWT) is refused', async () => {
        await expect401(ctx.realm.mint({ header: { cty: 'JWT' } }));
      });
      it('a JWE (five segments) is refused as encrypted', async () => {
        await expect401(
          'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d',
          'Encrypted access tokens are not accepted',
        );
      });
      it.each([
        ['two segments', 'aaa.bbb'],
        ['four segments', 'aaa.bbb.ccc.ddd'],
        ['an empty segment', `${b64url({ alg: 'RS256' })}..c2ln`],
        ['a header that is not JSON', `${b64url('nope')}.${b64url({})}.c2ln`],
        ['a header that is a JSON array', `${b64url([1])}.${b64url({})}.c2ln`],
        ['base64 padding on the signature', `${b64url({ alg: 'RS256' })}.${b64url({})}.c2ln=`],
        ['standard base64 characters', `${b64url({ alg: 'RS256' })}.${b64url({})}.c2+l/n`],
      ])('%s is refused as malformed', async (_name, token) => {
        await expect401(token, 'The access token is malformed');
      });
      it('a payload that is not a JSON object is refused', async () => {
        const header = { alg: 'RS256', typ: 'at+jwt', kid: ctx.realm.currentKid };
        const key = (ctx.realm as unknown as { keys: { privateKey: never }[] }).keys[0].privateKey;
        await expect401(signJws(header, '"just a string"', key, 'RS256'));
        await expect401(signJws(header, [1, 2], key, 'RS256'));
        await expect401(signJws(header, 'null', key, 'RS256'));
        await expect401(signJws({ ...header, typ: 'JWT' }, 'null', key, 'RS256'));
        await expect401(signJws(header, '42', key, 'RS256'));
      });
    });

    describe('keys (the key set only ever comes from the realm)', () => {
      it('an unknown kid is refused', async () => {
        await expect401(
          ctx.realm.mint({ header: { kid: 'unknown' } }),
          'The access token signing key is unknown',
        );
      });
      it('a non-string kid is refused', async () => {
        await expect401(ctx.realm.mint({ header: { kid: 7 } }));
      });
      it.each([
        '../../../etc/passwd',
        '..%2f..%2fjwks',
        "' OR 1=1 --",
        '$(curl 127.0.0.1)',
        'a\r\nb',
        'k'.repeat(2000),
      ])('kid %j is refused without any request but the JWKS', async (kid) => {
        await expect401(ctx.realm.mint({ header: { kid } }));
        expect(
          ctx.realm.requests.every(
            (r) => r === `GET ${new URL(ctx.realm.endpoints.jwksUri).pathname}`,
          ),
        ).toBe(true);
      });
      it('a single-key realm verifies a token without kid', async () => {
        expect((await call(ctx.realm.mint({ header: { kid: undefined } }))).status).toBe(200);
      });
      it('jku, x5u, x5c and jwk headers are ignored: no request leaves for them', async () => {
        const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
        tracker.serveJson({ keys: [{ ...attackerJwk, kid: 'evil', alg: 'RS256', use: 'sig' }] });
        const headers = [
          { jku: `${tracker.origin}/jwks`, kid: 'evil' },
          { x5u: `${tracker.origin}/cert.pem`, kid: 'evil' },
          { jwk: { ...attackerJwk, kid: 'evil' }, kid: 'evil' },
          { jwk: attackerJwk },
          { x5c: ['MIIB'], kid: 'evil' },
        ];
        for (const extra of headers) {
          const token = signJws(
            { alg: 'RS256', typ: 'at+jwt', ...extra },
            realmPayload(),
            attacker.privateKey,
            'RS256',
          );
          await expect401(token);
        }
        // A genuine token carrying the same headers still validates against the realm's keys only.
        const genuine = ctx.realm.mint({
          header: { jku: `${tracker.origin}/jwks`, x5u: `${tracker.origin}/c` },
        });
        expect((await call(genuine)).status).toBe(200);
        expect(tracker.requests).toEqual([]);
      });
      it('an iss naming another host does not drive a key lookup', async () => {
        const token = signJws(
          { alg: 'RS256', typ: 'at+jwt', kid: 'evil' },
          realmPayload({ iss: `${tracker.origin}/oauth2/${ctx.realm.realm}` }),
          attacker.privateKey,
          'RS256',
        );
        await expect401(token);
        expect(tracker.requests).toEqual([]);
      });
    });

    describe('time claims (clock tolerance 5 s)', () => {
      it('exp is required and must be a number', async () => {
        await expect401(
          ctx.realm.mint({ claims: { exp: undefined } }),
          'The access token claims are invalid',
        );
        await expect401(ctx.realm.mint({ claims: { exp: String(now() + 300) } }));
      });
      it('an expired token is refused; one expired within the tolerance passes', async () => {
        await expect401(
          ctx.realm.mint({ claims: { exp: now() - 10 } }),
          'The access token expired',
        );
        expect((await call(ctx.realm.mint({ claims: { exp: now() - 2 } }))).status).toBe(200);
      });
      it('nbf in the future is refused; within the tolerance it passes', async () => {
        await expect401(
          ctx.realm.mint({ claims: { nbf: now() + 60 } }),
          'The access token is not valid yet',
        );
        await expect401(ctx.realm.mint({ claims: { nbf: 'soon' } }));
        expect((await call(ctx.realm.mint({ claims: { nbf: now() + 2 } }))).status).toBe(200);
      });
      it('iat in the future is refused; within the tolerance it passes', async () => {
        await expect401(
          ctx.realm.mint({ claims: { iat: now() + 60 } }),
          'The access token was issued in the future',
        );
        await expect401(ctx.realm.mint({ claims: { iat: 'now' } }));
        expect((await call(ctx.realm.mint({ claims: { iat: now() + 2 } }))).status).toBe(200);
      });
    });

    describe('issuer and audience', () => {
      it.each([
        ['a trailing slash', (iss: string) => `${iss}/`],
        ['another realm', (iss: string) => iss.replace(/[0-9a-f]{8}-/, '00000000-')],
        [
          'an upper-case host',
          (iss: string) =>
            iss.replace('127.0.0.1', '127.0.0.1'.toUpperCase()).replace('http://', 'HTTP://'),
        ],
        ['a prefix', (iss: string) => iss.slice(0, -1)],
        ['an array', (iss: string) => [iss]],
        ['no issuer', () => undefined],
      ])('iss with %s is refused', async (_name, alter) => {
        await expect401(ctx.realm.mint({ claims: { iss: alter(ctx.realm.issuer) } }));
      });
      it('iss must match exactly', async () => {
        await expect401(
          ctx.realm.mint({ claims: { iss: `${ctx.realm.issuer}/` } }),
          'The access token issuer is not accepted',
        );
      });
      it.each([
        ['another API', 'https://other.example.test'],
        ['a prefix', 'https://api.example.test'],
        ['a trailing slash', `${AUDIENCE}/`],
        ['a number', 42],
        ['no audience', undefined],
      ])('aud naming %s is refused', async (_name, aud) => {
        await expect401(
          ctx.realm.mint({ claims: { aud } }),
          'The access token audience is not accepted',
        );
      });
      it('aud as a list containing the API passes', async () => {
        expect(
          (
            await call(
              ctx.realm.mint({ claims: { aud: ['https://other.example.test', AUDIENCE] } }),
            )
          ).status,
        ).toBe(200);
      });
    });

    describe('claims', () => {
      it('a non-string sub is refused', async () => {
        await expect401(ctx.realm.mint({ claims: { sub: 42 } }));
      });
      it('__proto__ and constructor claims do not pollute prototypes', async () => {
        const key = (ctx.realm as unknown as { keys: { privateKey: never }[] }).keys[0].privateKey;
        const payload = JSON.stringify(realmPayload()).replace(
          '{',
          '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},',
        );
        const token = signJws(
          { alg: 'RS256', typ: 'at+jwt', kid: ctx.realm.currentKid },
          payload,
          key,
          'RS256',
        );
        expect(payloadOf(token)).toHaveProperty('constructor');
        // Validly signed, so accepted; the members stay plain own data.
        const res = await call(token);
        expect(res.status).toBe(200);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
      });
    });
  });

  describe('requireTokenType: true (RFC 9068 §2.1)', () => {
    const { ctx, call } = scenario(platform, {}, { requireTokenType: true });
    it('accepts at+jwt and application/at+jwt only', async () => {
      expect((await call(ctx.realm.mint())).status).toBe(200);
      expect((await call(ctx.realm.mint({ header: { typ: 'application/at+jwt' } }))).status).toBe(
        200,
      );
      expect((await call(ctx.realm.mint({ header: { typ: 'JWT' } }))).status).toBe(401);
      expect((await call(ctx.realm.mint({ header: { typ: undefined } }))).status).toBe(401);
    });
  });

  describe('maxTokenAge: 60', () => {
    const { ctx, call } = scenario(platform, {}, { maxTokenAge: 60 });
    it('refuses tokens issued too long ago or without iat', async () => {
      expect((await call(ctx.realm.mint())).status).toBe(200);
      const old = await call(ctx.realm.mint({ claims: { iat: now() - 120 } }));
      expect(old.status).toBe(401);
      expect(old.body.message).toBe('The access token is too old');
      expect((await call(ctx.realm.mint({ claims: { iat: undefined } }))).status).toBe(401);
    });
  });

  describe('several audiences', () => {
    const { ctx, call } = scenario(
      platform,
      { audience: 'https://b.example.test' },
      {
        audience: ['https://a.example.test', 'https://b.example.test'],
      },
    );
    it('accepts a token for any of them and nothing else', async () => {
      expect((await call(ctx.realm.mint())).status).toBe(200);
      expect(
        (await call(ctx.realm.mint({ claims: { aud: 'https://a.example.test' } }))).status,
      ).toBe(200);
      expect(
        (await call(ctx.realm.mint({ claims: { aud: 'https://c.example.test' } }))).status,
      ).toBe(401);
    });
  });

  describe.each(['PS256', 'ES256', 'ES384', 'RS512'] as const)('a realm signing with %s', (alg) => {
    const { ctx, call } = scenario(platform, { algorithm: alg }, { algorithms: [alg] });
    it('verifies its tokens when the algorithm is allowed', async () => {
      expect((await call(ctx.realm.mint())).status).toBe(200);
    });
    it('refuses a tampered token', async () => {
      const [h, p, s] = ctx.realm.mint().split('.');
      const raw = Buffer.from(s, 'base64url');
      raw[3] ^= 0x80;
      expect((await call(`${h}.${p}.${raw.toString('base64url')}`)).status).toBe(401);
    });
  });

  describe('algorithm must fit the key', () => {
    const { ctx, call } = scenario(platform, {}, { algorithms: ['RS256', 'PS256', 'ES256'] });
    it("a PS256 token under an RS256 JWK is refused (the JWK's alg wins)", async () => {
      const res = await call(ctx.realm.mint({ header: { alg: 'PS256' } }));
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('The access token signing key does not match its algorithm');
    });
    it('an ES256 token under an RSA key is refused', async () => {
      const token = signJws(
        { alg: 'ES256', typ: 'at+jwt', kid: ctx.realm.currentKid },
        { iss: ctx.realm.issuer, aud: AUDIENCE, exp: now() + 60 },
        attackerEc.privateKey,
        'ES256',
      );
      const res = await call(token);
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('The access token signing key does not match its algorithm');
    });
  });
});
