/**
 * Property-based fuzzing (fast-check) of the bearer extractor, the token header parser and the
 * guard: no exception escapes, every bad input gets 400/401/403, valid tokens still pass.
 * `npm test` runs a fixed number of cases; `npm run fuzz` runs many more (FUZZ_RUNS).
 */
import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import request from 'supertest';
import { VoxKeyModule, VoxKeyTokenError } from '../../lib/index';
import { parseBearerHeader } from '../../lib/token/bearer-header.parser';
import { checkJwsHeader, decodeJwsHeader } from '../../lib/token/jws-header';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { MAX_TOKEN_LENGTH } from '../../lib/voxkey.constants';
import { CONTROLLERS } from '../support/routes';
import { createApp } from '../support/app';
import { b64url } from '../support/token-forge';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const HTTP_RUNS = Math.max(50, Math.floor(RUNS / 3));
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const AUDIENCE = 'https://api.example.test/v1';

/** Strings that look like what arrives in an Authorization header, and worse. */
const headerLike = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc
    .tuple(
      fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'DPoP', ''),
      fc.constantFrom(' ', '  ', '\t', ''),
      fc.string({
        unit: fc.constantFrom(...'ABCabc012-._~+/= ,"\\\u00e9'.split('')),
        maxLength: 200,
      }),
    )
    .map(([scheme, space, rest]) => `${scheme}${space}${rest}`),
);

describe('fuzzing', () => {
  it('parseBearerHeader never throws and only returns well-formed tokens', () => {
    fc.assert(
      fc.property(headerLike, (header) => {
        const result = parseBearerHeader(header);
        expect(['token', 'missing', 'malformed', 'too_large']).toContain(result.kind);
        if (result.kind === 'token') {
          expect(result.token).toMatch(B64TOKEN);
          expect(result.token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
        }
      }),
      { numRuns: RUNS * 10 },
    );
  });

  it('parseBearerHeader accepts exactly what RFC 6750 §2.1 allows (against a reference grammar)', () => {
    // The grammar written out once more, independently: optional leading and trailing spaces,
    // the scheme in any ASCII case, one or more spaces, one b64token.
    const REFERENCE = /^ *[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*) *$/;
    fc.assert(
      fc.property(headerLike, (header) => {
        const expected = REFERENCE.exec(header)?.[1];
        const result = parseBearerHeader(header);
        if (expected === undefined || expected.length > MAX_TOKEN_LENGTH) {
          expect(result.kind).not.toBe('token');
        } else {
          expect(result).toEqual({ kind: 'token', token: expected });
        }
      }),
      { numRuns: RUNS * 10 },
    );
  });

  it('the header parser only ever fails with a VoxKeyTokenError', () => {
    const options = { algorithms: ['RS256'] as const, requireTokenType: false };
    const segment = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.jsonValue({ maxDepth: 2 }).map((v) => b64url(JSON.stringify(v))),
      fc
        .dictionary(
          fc.constantFrom('alg', 'kid', 'typ', 'crit', 'b64', 'cty', 'jku', '__proto__'),
          fc.jsonValue({ maxDepth: 1 }),
        )
        .map((v) => b64url(v)),
    );
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        try {
          checkJwsHeader(decodeJwsHeader(segments.join('.')), options as never);
        } catch (error) {
          expect(error).toBeInstanceOf(VoxKeyTokenError);
        }
      }),
      { numRuns: RUNS * 10 },
    );
  });

  describe('through the guard (Express)', () => {
    let realm: VoxKeyTestRealm;
    let app: INestApplication;
    let valid: string;
    beforeAll(async () => {
      realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
      app = await createApp('express', [VoxKeyModule.forRoot(realm.moduleOptions())], CONTROLLERS);
      valid = realm.mint({ scope: 'read:posts' });
    });
    afterAll(async () => {
      await app?.close();
      await realm?.close();
    });
    const statusFor = async (authorization: string) => {
      const res = await request(app.getHttpServer())
        .get('/posts')
        .set('Authorization', authorization);
      expect(res.text).not.toMatch(/\bat .+:\d+:\d+/);
      return res.status;
    };

    it('random headers get 400 or 401, never 2xx or 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          // Only what an HTTP client can send at all: visible ASCII, space and tab.
          headerLike.filter((h) => [...h].every((c) => c === '\t' || (c >= ' ' && c <= '~'))),
          async (header) => {
            expect([400, 401]).toContain(await statusFor(header));
          },
        ),
        { numRuns: HTTP_RUNS },
      );
    });

    it('a realm-signed token is accepted exactly when its claims are valid', async () => {
      const t = () => Math.floor(Date.now() / 1000);
      const timeish = fc.oneof(
        fc.constant(undefined),
        fc.integer({ min: -400, max: 400 }).map((d) => t() + d),
        fc.constantFrom('123', null, [1], Number.POSITIVE_INFINITY, -1),
      );
      const claims = fc.record({
        iss: fc.oneof(
          fc.constant(undefined),
          fc.constantFrom('ISSUER', 'ISSUER/', 'http://evil', ['ISSUER']),
        ),
        aud: fc.oneof(
          fc.constant(undefined),
          fc.constantFrom(AUDIENCE, `${AUDIENCE}/`, [AUDIENCE, 'x'], ['x'], 42),
        ),
        exp: timeish,
        nbf: timeish,
        iat: timeish,
        sub: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 5 }), fc.integer()),
      });
      await fc.assert(
        fc.asyncProperty(claims, async (c) => {
          const iss =
            c.iss === 'ISSUER'
              ? realm.issuer
              : c.iss === 'ISSUER/'
                ? `${realm.issuer}/`
                : Array.isArray(c.iss)
                  ? [realm.issuer]
                  : c.iss;
          const token = realm.mint({
            scope: 'read:posts',
            claims: { ...c, iss, exp: c.exp, nbf: c.nbf, iat: c.iat },
          });
          const status = await statusFor(`Bearer ${token}`);
          const now = t();
          const isTime = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
          const valid =
            iss === realm.issuer &&
            (c.aud === AUDIENCE || (Array.isArray(c.aud) && c.aud.includes(AUDIENCE))) &&
            isTime(c.exp) &&
            now < (c.exp as number) + 5 - 1 &&
            (c.nbf === undefined || (isTime(c.nbf) && (c.nbf as number) <= now + 5 - 1)) &&
            (c.iat === undefined || (isTime(c.iat) && (c.iat as number) <= now + 5 - 1)) &&
            (c.sub === undefined || typeof c.sub === 'string');
          const clearlyInvalid =
            iss !== realm.issuer ||
            !(c.aud === AUDIENCE || (Array.isArray(c.aud) && c.aud.includes(AUDIENCE))) ||
            !isTime(c.exp) ||
            (c.exp as number) + 5 + 1 <= now ||
            (c.nbf !== undefined && (!isTime(c.nbf) || (c.nbf as number) > now + 5 + 1)) ||
            (c.iat !== undefined && (!isTime(c.iat) || (c.iat as number) > now + 5 + 1)) ||
            (c.sub !== undefined && typeof c.sub !== 'string');
          // Within a second of a boundary either answer is right; elsewhere the answer must match.
          if (valid) expect(status).toBe(200);
          else if (clearlyInvalid) expect(status).toBe(401);
          else expect([200, 401]).toContain(status);
        }),
        { numRuns: HTTP_RUNS },
      );
    });

    it('mutated valid tokens are refused; the unmutated token passes', async () => {
      const mutation = fc.oneof(
        fc.record({
          kind: fc.constant('flip' as const),
          at: fc.nat(),
          bit: fc.integer({ min: 0, max: 5 }),
        }),
        fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
        fc.record({
          kind: fc.constant('insert' as const),
          at: fc.nat(),
          char: fc.constantFrom(...'Aa0-_.'.split('')),
        }),
        fc.record({
          kind: fc.constant('header' as const),
          field: fc.constantFrom('alg', 'kid', 'typ', 'crit', 'jku', 'cty'),
          value: fc.jsonValue({ maxDepth: 1 }),
        }),
        fc.record({
          kind: fc.constant('claim' as const),
          field: fc.constantFrom('iss', 'aud', 'exp', 'nbf', 'iat', 'sub'),
          value: fc.jsonValue({ maxDepth: 1 }),
        }),
      );
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          let token = valid;
          const at = 'at' in m ? m.at % token.length : 0;
          if (m.kind === 'flip') {
            const i = alphabet.indexOf(token[at]);
            if (i < 0) return; // a dot: flipping it is another mutation kind
            token = token.slice(0, at) + alphabet[i ^ (1 << m.bit)] + token.slice(at + 1);
          } else if (m.kind === 'delete') token = token.slice(0, at) + token.slice(at + 1);
          else if (m.kind === 'insert') token = token.slice(0, at) + m.char + token.slice(at);
          else {
            const [h, p, s] = token.split('.');
            const header = JSON.parse(Buffer.from(h, 'base64url').toString());
            const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
            (m.kind === 'header' ? header : payload)[m.field] = m.value;
            token = `${b64url(header)}.${b64url(payload)}.${s}`;
          }
          const status = await statusFor(`Bearer ${token}`);
          // Flipping a spare bit of the last base64url character leaves the same signature
          // bytes: that token is as valid as the original.
          const same = (t: string) => {
            const parts = t.split('.');
            return parts.length === 3
              ? `${parts[0]}.${parts[1]}.${Buffer.from(parts[2], 'base64url').toString('hex')}`
              : t;
          };
          if (same(token) === same(valid) && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token))
            expect(status).toBe(200);
          else expect([400, 401, 403]).toContain(status);
        }),
        { numRuns: HTTP_RUNS },
      );
      expect(await statusFor(`Bearer ${valid}`)).toBe(200);
    });
  });
});
