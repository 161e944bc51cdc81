/**
 * The attack and fault catalogue: what the library refuses, category by category, each case with
 * the expected status, RFC 6750 error code and its source. Every case also checks that the answer
 * is never 2xx for a bad input, never a 500, carries no stack trace, and echoes no token or
 * secret. Cases covered in depth elsewhere are repeated here in short form, so this file reads
 * as the whole list; see test/e2e for the detailed suites.
 */
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { signJws, VoxKeyTestRealm } from '../../lib/testing/index';
import { PLATFORMS } from '../support/app';
import { realmScenario } from '../support/realm-scenario';
import { CaptureLogger } from '../support/capture-logger';
import { HttpStub } from '../support/http-stub';
import { withTwoAuthorizationFields } from '../support/raw-http';
import { b64url, compact, hmacForge, validClaims } from '../support/token-forge';

type Code = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | null;

interface Case {
  /** What is sent, and why it must be refused. */
  name: string;
  /** Where the rule comes from. */
  source: string;
  /** The Authorization header value (or undefined for none); built when the suite runs. */
  header: () => string | undefined;
  path?: string;
  status: 400 | 401 | 403 | 431;
  code: Code;
  /** The fixed error_description expected, where the reason matters. */
  description?: string;
}

const AUDIENCE = 'https://api.example.test/v1';
const now = () => Math.floor(Date.now() / 1000);
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 });

describe.each(PLATFORMS)('security catalogue on %s', (platform) => {
  const logger = new CaptureLogger();
  const { ctx } = realmScenario(
    platform,
    { audience: AUDIENCE },
    { algorithms: ['RS256', 'ES256'] },
    { logger },
  );
  let tracker: HttpStub;
  /** Every token and secret the suite produced, to prove none leaks into logs. */
  const secrets = new Set<string>();
  const mint = (...args: Parameters<VoxKeyTestRealm['mint']>) => {
    const token = ctx.realm.mint(...args);
    secrets.add(token);
    return token;
  };
  const bearer = (token: string) => {
    secrets.add(token);
    return `Bearer ${token}`;
  };
  const payload = (extra: Record<string, unknown> = {}) =>
    validClaims(ctx.realm.issuer, AUDIENCE, extra);
  const realmKey = () =>
    (ctx.realm as unknown as { keys: { privateKey: Parameters<typeof signJws>[2] }[] }).keys[0]
      .privateKey;

  beforeAll(async () => {
    tracker = await HttpStub.start();
  });
  afterAll(async () => {
    await tracker?.close();
  });

  const cases: Record<string, Case[]> = {
    'Header parsing': [
      {
        name: 'no Authorization header',
        source: 'RFC 6750 §3.1',
        header: () => undefined,
        status: 401,
        code: null,
      },
      {
        name: 'Basic scheme',
        source: 'RFC 6750 §3',
        header: () => 'Basic dXNlcjpwYXNz',
        status: 401,
        code: null,
      },
      {
        name: 'Digest scheme',
        source: 'RFC 6750 §3',
        header: () => 'Digest username="a"',
        status: 401,
        code: null,
      },
      {
        name: 'DPoP scheme (not supported yet)',
        source: 'RFC 9449 §7.1',
        header: () => `DPoP ${mint()}`,
        status: 401,
        code: null,
      },
      {
        name: 'scheme glued to the token',
        source: 'RFC 6750 §2.1',
        header: () => `Bearer${mint()}`,
        status: 401,
        code: null,
      },
      {
        name: 'empty credentials',
        source: 'RFC 6750 §2.1',
        header: () => 'Bearer ',
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'only spaces after the scheme',
        source: 'RFC 6750 §2.1',
        header: () => 'Bearer      ',
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'a tab after the scheme',
        source: 'RFC 6750 §2.1 (1*SP)',
        header: () => `Bearer\t${mint()}`,
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'junk after the token',
        source: 'RFC 6750 §2.1',
        header: () => `Bearer ${mint()} junk`,
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'two credentials',
        source: 'RFC 6750 §3.1 (more than one method)',
        header: () => `Bearer ${mint()} Bearer ${mint()}`,
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'comma-joined credentials',
        source: 'RFC 9110 §5.3',
        header: () => `Bearer ${mint()}, Bearer ${mint()}`,
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'quote outside the b64token set',
        source: 'RFC 6750 §2.1',
        header: () => 'Bearer abc"def',
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'non-ASCII character',
        source: 'RFC 6750 §2.1',
        header: () => 'Bearer abc\u00e9def',
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'padding in the middle',
        source: 'RFC 6750 §2.1 (*"=" only at the end)',
        header: () => 'Bearer ab=cd',
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'a 9,000-character token',
        source: 'resource exhaustion',
        header: () => `Bearer ${'a'.repeat(9_000)}`,
        status: 401,
        code: 'invalid_token',
      },
    ],
    'Token structure': [
      {
        name: 'one segment',
        source: 'RFC 7515 §7.1',
        header: () => bearer('abc'),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'two segments',
        source: 'RFC 7515 §7.1',
        header: () => bearer('abc.def'),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'four segments',
        source: 'RFC 7515 §7.1',
        header: () => bearer('a.b.c.d'),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'JWE, five segments (no decryption attempted)',
        source: 'RFC 7516 §9',
        header: () => bearer(`${b64url({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.a.b.c.d`),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'empty payload segment',
        source: 'RFC 7515 §7.1',
        header: () => bearer(`${b64url({ alg: 'RS256' })}..c2ln`),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'empty signature segment',
        source: 'RFC 7515 §7.1',
        header: () => bearer(`${b64url({ alg: 'RS256' })}.${b64url(payload())}.`),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'header is not JSON',
        source: 'RFC 7515 §4',
        header: () => bearer(`${b64url('not json')}.${b64url(payload())}.c2ln`),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'header is a JSON array',
        source: 'RFC 7515 §4',
        header: () => bearer(`${b64url([1])}.${b64url(payload())}.c2ln`),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'payload is a JSON string',
        source: 'RFC 7519 §7.2',
        header: () =>
          bearer(signJws({ alg: 'RS256', kid: ctx.realm.currentKid }, '"x"', realmKey(), 'RS256')),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'payload is null',
        source: 'RFC 7519 §7.2',
        header: () =>
          bearer(signJws({ alg: 'RS256', kid: ctx.realm.currentKid }, 'null', realmKey(), 'RS256')),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'padding on a segment',
        source: 'RFC 7515 §2 (base64url without padding)',
        header: () => `${bearer(mint())}=`,
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'standard base64 characters',
        source: 'RFC 7515 §2',
        header: () =>
          bearer(mint().replace(/-/g, '+')).replace(/Bearer .*/, (v) =>
            v.includes('+') ? v : `${v}+/`,
          ),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'invalid UTF-8 in the header',
        source: 'RFC 7515 §5.2 step 4',
        header: () =>
          bearer(
            `${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${b64url(payload())}.c2ln`,
          ),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'duplicate alg member (last wins must not help)',
        source: 'RFC 7515 §5.2 step 4',
        header: () =>
          bearer(
            `${Buffer.from(`{"alg":"RS256","alg":"none","kid":"${ctx.realm.currentKid}"}`).toString('base64url')}.${b64url(payload())}.`,
          ),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'crit header',
        source: 'RFC 7515 §4.1.11',
        header: () => bearer(mint({ header: { crit: ['exp'], exp: 1 } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'b64: false (unencoded payload)',
        source: 'RFC 7797 §3',
        header: () => bearer(mint({ header: { b64: false, crit: ['b64'] } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'nested JWT (cty: JWT)',
        source: 'RFC 7519 §5.2, RFC 8725 §2.7',
        header: () => bearer(mint({ header: { cty: 'JWT' } })),
        status: 401,
        code: 'invalid_token',
      },
    ],
    Algorithms: [
      ...['none', 'None', 'NONE', 'nOnE'].map((alg) => ({
        name: `alg ${alg}, empty signature`,
        source: 'RFC 8725 §3.1, CVE-2015-9235',
        header: () => bearer(compact({ alg, kid: ctx.realm.currentKid }, payload(), '')),
        status: 401 as const,
        code: 'invalid_token' as Code,
      })),
      {
        name: 'alg none with a signature',
        source: 'RFC 8725 §3.1',
        header: () =>
          bearer(compact({ alg: 'none', kid: ctx.realm.currentKid }, payload(), 'c2ln')),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'missing alg',
        source: 'RFC 7515 §4.1.1',
        header: () => bearer(compact({ kid: ctx.realm.currentKid }, payload(), 'c2ln')),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'alg as a number',
        source: 'RFC 7515 §4.1.1',
        header: () => bearer(compact({ alg: 256, kid: ctx.realm.currentKid }, payload(), 'c2ln')),
        status: 401,
        code: 'invalid_token',
      },
      ...(['spki', 'pkcs1', 'jwk', 'jwks'] as const).flatMap((form) =>
        (['HS256', 'HS384', 'HS512'] as const).map((alg) => ({
          name: `${alg} keyed with the realm public key as ${form}`,
          source: 'RFC 8725 §2.1, CVE-2016-10555',
          header: () => {
            const jwk = ctx.realm.jwks.keys[0];
            const key = createPublicKey({ key: jwk, format: 'jwk' });
            const secret = {
              spki: () => key.export({ type: 'spki', format: 'pem' }) as string,
              pkcs1: () => key.export({ type: 'pkcs1', format: 'pem' }) as string,
              jwk: () => JSON.stringify(jwk),
              jwks: () => JSON.stringify(ctx.realm.jwks),
            }[form]();
            return bearer(hmacForge(alg, { kid: ctx.realm.currentKid }, payload(), secret));
          },
          status: 401 as const,
          code: 'invalid_token' as Code,
        })),
      ),
      {
        name: 'RS384, outside the allow-list',
        source: 'RFC 8725 §3.1',
        header: () => bearer(mint({ header: { alg: 'RS384' } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'PS256, outside the allow-list',
        source: 'RFC 8725 §3.1',
        header: () => bearer(mint({ header: { alg: 'PS256' } })),
        status: 401,
        code: 'invalid_token',
        description: 'The access token algorithm is not accepted',
      },
      {
        name: 'ES256 under an RSA key',
        source: 'RFC 8725 §3.1 (alg must fit the key), RFC 7518 §3.4',
        description: 'The access token signing key does not match its algorithm',
        header: () =>
          bearer(
            signJws({ alg: 'ES256', kid: ctx.realm.currentKid }, payload(), ec.privateKey, 'ES256'),
          ),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: "signed by an attacker's RSA-1024 key under the realm kid",
        source: 'RFC 7515 §5.2 (realm keys under 2048 bits: test/e2e/jwks)',
        description: 'The access token signature is invalid',
        header: () =>
          bearer(
            signJws(
              { alg: 'RS256', kid: ctx.realm.currentKid },
              payload(),
              weakRsa.privateKey,
              'RS256',
            ),
          ),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'bit-flipped signature',
        source: 'RFC 7515 §5.2',
        header: () => {
          const [h, p, s] = mint().split('.');
          const raw = Buffer.from(s, 'base64url');
          raw[7] ^= 4;
          return bearer(`${h}.${p}.${raw.toString('base64url')}`);
        },
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'signature spliced from another token',
        source: 'RFC 7515 §5.2',
        header: () => {
          const [h, p] = mint({ scope: 'admin' }).split('.');
          return bearer(`${h}.${p}.${mint().split('.')[2]}`);
        },
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'signed by an attacker key under the realm kid',
        source: 'RFC 7515 §5.2',
        header: () =>
          bearer(
            signJws(
              { alg: 'RS256', kid: ctx.realm.currentKid },
              payload(),
              attacker.privateKey,
              'RS256',
            ),
          ),
        status: 401,
        code: 'invalid_token',
      },
    ],
    'Keys and JWKS': [
      {
        name: 'unknown kid',
        source: 'RFC 7515 §4.1.4',
        header: () => bearer(mint({ header: { kid: 'unknown' } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'kid as a number',
        source: 'RFC 7515 §4.1.4',
        header: () => bearer(mint({ header: { kid: 7 } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'kid as an object',
        source: 'RFC 7515 §4.1.4',
        header: () => bearer(mint({ header: { kid: { $ne: 1 } } })),
        status: 401,
        code: 'invalid_token',
      },
      ...[
        '../../etc/passwd',
        "' OR 1=1 --",
        '$(curl 127.0.0.1)',
        'a\r\nX-Injected: 1',
        'k'.repeat(5_000),
      ].map((kid) => ({
        name: `kid injection ${JSON.stringify(kid.slice(0, 20))}`,
        source: 'OWASP injection',
        header: () => bearer(mint({ header: { kid } })),
        status: 401 as const,
        code: 'invalid_token' as Code,
      })),
      {
        name: 'jku pointing elsewhere',
        source: 'RFC 8725 §3.10',
        header: () =>
          bearer(
            signJws(
              { alg: 'RS256', kid: 'evil', jku: `${tracker.origin}/jwks` },
              payload(),
              attacker.privateKey,
              'RS256',
            ),
          ),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'x5u pointing elsewhere',
        source: 'RFC 8725 §3.10',
        header: () =>
          bearer(
            signJws(
              { alg: 'RS256', kid: 'evil', x5u: `${tracker.origin}/c.pem` },
              payload(),
              attacker.privateKey,
              'RS256',
            ),
          ),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'x5c with an attacker certificate',
        source: 'RFC 8725 §3.10',
        header: () =>
          bearer(
            signJws(
              { alg: 'RS256', kid: 'evil', x5c: ['MIIBIjAN'] },
              payload(),
              attacker.privateKey,
              'RS256',
            ),
          ),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'embedded jwk of the attacker',
        source: 'CVE-2018-0114',
        header: () =>
          bearer(
            signJws(
              { alg: 'RS256', jwk: attacker.publicKey.export({ format: 'jwk' }) },
              payload(),
              attacker.privateKey,
              'RS256',
            ),
          ),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'iss naming another host',
        source: 'RFC 8725 §3.8 (no key lookup driven by iss)',
        header: () =>
          bearer(
            signJws(
              { alg: 'RS256', kid: 'evil' },
              payload({ iss: `${tracker.origin}/oauth2/${randomUUID()}` }),
              attacker.privateKey,
              'RS256',
            ),
          ),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'a realm token carrying jku is checked with realm keys only',
        source: 'RFC 8725 §3.10',
        header: () => bearer(mint({ header: { jku: `${tracker.origin}/jwks` }, scope: 'other' })),
        path: '/posts',
        status: 403,
        code: 'insufficient_scope',
      },
    ],
    Claims: [
      {
        name: 'no exp',
        source: 'RFC 9068 §2.2',
        header: () => bearer(mint({ claims: { exp: undefined } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'exp as a string',
        source: 'RFC 7519 §2 (NumericDate)',
        header: () => bearer(mint({ claims: { exp: String(now() + 300) } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'expired beyond the tolerance',
        source: 'RFC 7519 §4.1.4',
        header: () => bearer(mint({ claims: { exp: now() - 10 } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'nbf in the future',
        source: 'RFC 7519 §4.1.5',
        header: () => bearer(mint({ claims: { nbf: now() + 60 } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'nbf as a string',
        source: 'RFC 7519 §2',
        header: () => bearer(mint({ claims: { nbf: 'soon' } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'iat in the future',
        source: 'RFC 9068 §4',
        header: () => bearer(mint({ claims: { iat: now() + 60 } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'iss with a trailing slash',
        source: 'RFC 9068 §4 (exact match)',
        header: () => bearer(mint({ claims: { iss: `${ctx.realm.issuer}/` } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'iss of another realm',
        source: 'RFC 9068 §4',
        header: () =>
          bearer(mint({ claims: { iss: ctx.realm.issuer.replace(/[0-9a-f]{8}-/, '00000000-') } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'iss as a list',
        source: 'RFC 7519 §4.1.1',
        header: () => bearer(mint({ claims: { iss: [ctx.realm.issuer] } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'aud of another API',
        source: 'RFC 9068 §4, RFC 8707',
        header: () => bearer(mint({ claims: { aud: 'https://other.example.test' } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'aud as a prefix of ours',
        source: 'RFC 9068 §4',
        header: () => bearer(mint({ claims: { aud: 'https://api.example.test' } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'aud upper-cased',
        source: 'RFC 9068 §4 (exact match)',
        header: () => bearer(mint({ claims: { aud: AUDIENCE.toUpperCase() } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'aud as an object',
        source: 'RFC 7519 §4.1.3',
        header: () => bearer(mint({ claims: { aud: { 0: AUDIENCE } } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'typ of an ID token',
        source: 'RFC 9068 §2.1, RFC 8725 §3.11',
        header: () => bearer(mint({ header: { typ: 'id_token+jwt' } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'typ dpop+jwt (a proof, not a token)',
        source: 'RFC 9449 §4.2',
        header: () => bearer(mint({ header: { typ: 'dpop+jwt' } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'sub as a number',
        source: 'RFC 7519 §4.1.2',
        header: () => bearer(mint({ claims: { sub: 1 } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'DPoP-bound token (cnf.jkt) sent as Bearer',
        source: 'RFC 9449 §6 (no downgrade to bearer)',
        header: () => bearer(mint({ claims: { cnf: { jkt: 'abc' } } })),
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'mTLS-bound token (cnf.x5t#S256) sent as Bearer',
        source: 'RFC 8705 §3',
        header: () => bearer(mint({ claims: { cnf: { 'x5t#S256': 'abc' } } })),
        status: 401,
        code: 'invalid_token',
      },
    ],
    Scopes: [
      {
        name: 'no scope claim',
        source: 'RFC 6750 §3.1',
        header: () => bearer(mint({ scope: undefined })),
        path: '/posts',
        status: 403,
        code: 'insufficient_scope',
      },
      {
        name: 'a prefix of the scope',
        source: 'RFC 6749 §3.3 (exact match)',
        header: () => bearer(mint({ scope: 'read:post' })),
        path: '/posts',
        status: 403,
        code: 'insufficient_scope',
      },
      {
        name: 'the scope upper-cased',
        source: 'RFC 6749 §3.3 (case-sensitive)',
        header: () => bearer(mint({ scope: 'READ:POSTS' })),
        path: '/posts',
        status: 403,
        code: 'insufficient_scope',
      },
      {
        name: 'comma-separated scopes',
        source: 'RFC 6749 §3.3 (space-delimited)',
        header: () => bearer(mint({ scope: 'openid,read:posts' })),
        path: '/posts',
        status: 403,
        code: 'insufficient_scope',
      },
      {
        name: 'tab-separated scopes',
        source: 'RFC 6749 §3.3',
        header: () => bearer(mint({ scope: 'openid\tread:posts' })),
        path: '/posts',
        status: 403,
        code: 'insufficient_scope',
      },
      {
        name: 'scope as a list',
        source: 'RFC 9068 §2.2.3 (a string)',
        header: () => bearer(mint({ claims: { scope: ['read:posts'] } })),
        path: '/posts',
        status: 403,
        code: 'insufficient_scope',
      },
      {
        name: 'authentication fails before scopes (401 not 403)',
        source: 'RFC 6750 §3.1',
        header: () => bearer(mint({ scope: 'read:posts', claims: { exp: now() - 60 } })),
        path: '/posts',
        status: 401,
        code: 'invalid_token',
      },
      {
        name: 'handler scope missing under a controller scope',
        source: 'library rule: scopes add up',
        header: () => bearer(mint({ scope: 'admin' })),
        path: '/admin/write',
        status: 403,
        code: 'insufficient_scope',
      },
    ],
  };

  const total = Object.values(cases).reduce((n, list) => n + list.length, 0);
  it(`holds at least 80 cases (${total})`, () => {
    expect(total).toBeGreaterThanOrEqual(80);
  });

  describe.each(Object.entries(cases))('%s', (_group, list) => {
    it.each(
      list.map(
        (c) => [`${c.name} → ${c.status}${c.code ? ` ${c.code}` : ''} (${c.source})`, c] as const,
      ),
    )('%s', async (_title, c) => {
      const header = c.header();
      const req = request(ctx.app.getHttpServer()).get(c.path ?? '/open');
      const res = await (header === undefined ? req : req.set('Authorization', header));
      expect(res.status).toBe(c.status);
      if (c.description) expect(res.body.message).toBe(c.description);
      const challenge = res.headers['www-authenticate'] as string | undefined;
      if (c.code) expect(challenge).toContain(`error="${c.code}"`);
      // Only RFC 6750's characters are reflected: no header injection, nothing Node refuses.
      if (challenge !== undefined) expect(challenge).toMatch(/^Bearer [\x20-\x7e]+$/);
      else if (c.status !== 431) expect(challenge).toMatch(/^Bearer realm="[^"]*"$/);
      // Never a 2xx or a 500, no stack trace, no token content.
      expect(res.text).not.toMatch(/\bat .+:\d+:\d+|Error:/);
      const token = header?.replace(/^\S+\s+/, '') ?? '';
      for (const part of token.split(/[.\s]/).filter((p) => p.length > 8)) {
        expect(res.text).not.toContain(part);
        expect(challenge ?? '').not.toContain(part);
      }
    });
  });

  it('duplicate Authorization header fields over a raw socket → 400 invalid_request (RFC 6750 §3.1)', async () => {
    const { port } = ctx.app.getHttpServer().address() as AddressInfo;
    const token = mint();
    const res = await withTwoAuthorizationFields(port, token);
    expect(res.status).toBe(400);
    expect(res.text).toContain('error="invalid_request"');
  });

  it('a token in the query string or the body is not accepted (RFC 6750 §2.2, §2.3 not supported)', async () => {
    const token = mint();
    const query = await request(ctx.app.getHttpServer()).get(`/open?access_token=${token}`);
    expect(query.status).toBe(401);
    const body = await request(ctx.app.getHttpServer())
      .post('/open')
      .type('form')
      .send({ access_token: token });
    expect(body.status).toBe(401);
    expect(body.body.error).toBe('No token');
  });

  it("an oversized header (over Node's 16 KB limit) → 431 from Node, never a handler", async () => {
    const res = await request(ctx.app.getHttpServer())
      .get('/open')
      .set('Authorization', `Bearer ${'a'.repeat(20_000)}`);
    expect(res.status).toBe(431);
  });

  it('no request left for jku, x5u, x5c, jwk or a foreign iss', () => {
    expect(tracker.requests).toEqual([]);
    const jwksPath = new URL(ctx.realm.endpoints.jwksUri).pathname;
    expect(ctx.realm.requests.every((r) => r === `GET ${jwksPath}`)).toBe(true);
  });

  it('__proto__ members do not pollute prototypes (a valid token with them passes as data)', async () => {
    const body = JSON.stringify(payload()).replace(
      '{',
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},',
    );
    const token = signJws(
      { alg: 'RS256', typ: 'at+jwt', kid: ctx.realm.currentKid },
      body,
      realmKey(),
      'RS256',
    );
    expect(
      (await request(ctx.app.getHttpServer()).get('/open').set('Authorization', bearer(token)))
        .status,
    ).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('log hygiene: no token, token segment or Authorization value appears in any log line', () => {
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      for (const part of secret.split(/[.\s]/).filter((p) => p.length > 16)) {
        const leaks = logger.lines.filter((line) => line.includes(part));
        expect(leaks).toEqual([]);
      }
    }
  });
});
