import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { VoxKeyDpopError } from '../../../lib/errors/voxkey.errors';
import {
  accessTokenHash,
  type DpopProofPolicy,
  verifyDpopProof,
} from '../../../lib/dpop/dpop-proof.verifier';
import { normalizeHtu, requestHtu } from '../../../lib/dpop/htu';
import { jwkThumbprint } from '../../../lib/dpop/jwk-thumbprint';
import { buildProof } from '../../support/dpop-proof';

const NOW = 1_800_000_000;
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
const HTU = 'https://api.example.com/mcp';
const POLICY: DpopProofPolicy = {
  algorithms: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'],
  maxAgeSec: 300,
  futureLeewaySec: 30,
};

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

interface Key {
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
  alg: string;
}

function key(kind: 'ec' | 'rsa' | 'ed25519', options: Record<string, unknown> = {}, alg = ''): Key {
  const pair = generateKeyPairSync(
    kind as 'ec',
    {
      namedCurve: 'P-256',
      modulusLength: 2048,
      ...options,
    } as never,
  ) as unknown as { privateKey: KeyObject; publicKey: KeyObject };
  return {
    privateKey: pair.privateKey,
    jwk: pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
    alg: alg || { ec: 'ES256', rsa: 'RS256', ed25519: 'EdDSA' }[kind],
  };
}

const EC = key('ec');
const RSA = key('rsa');
const ED = key('ed25519');

/** A proof for GET https://api.example.com/mcp with TOKEN, with header or claims overridden. */
function proof(
  signer: Key = EC,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): string {
  return buildProof({
    key: { privateKey: signer.privateKey, alg: signer.alg, publicJwk: signer.jwk },
    htu: HTU,
    accessToken: TOKEN,
    now: NOW,
    claims: { jti: 'e1j3V_bKic8-LAEB', ...claims },
    header,
    // Signed as the key allows, whatever the header claims.
    signWith: { key: signer.privateKey, alg: signer.alg },
  });
}

/** The thumbprint of the key a proof embeds (so each defect is tested on its own), else EC's. */
function embeddedJkt(value: string): string {
  try {
    const header = JSON.parse(Buffer.from(value.split('.')[0], 'base64url').toString()) as {
      jwk?: Record<string, unknown>;
    };
    return jwkThumbprint(header.jwk ?? {}) ?? jwkThumbprint(EC.jwk)!;
  } catch {
    return jwkThumbprint(EC.jwk)!;
  }
}

function check(value: string, jkt = embeddedJkt(value), method = 'GET', policy = POLICY) {
  return verifyDpopProof(
    { proof: value, method, htu: normalizeHtu(HTU)!, accessToken: TOKEN, jkt },
    policy,
    NOW,
  );
}

async function reason(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VoxKeyDpopError);
  return (error as VoxKeyDpopError).reason;
}

describe('jwkThumbprint (RFC 7638)', () => {
  it('matches the RFC 7638 §3.1 example and ignores members outside the required set', () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    expect(jwkThumbprint({ ...jwk, kid: 'other', use: 'sig' })).toBe(
      'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
    );
  });

  it('matches the RFC 9449 §6.1 example (EC P-256)', () => {
    expect(
      jwkThumbprint({
        kty: 'EC',
        x: 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs',
        y: '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA',
        crv: 'P-256',
      }),
    ).toBe('0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I');
  });

  it.each([
    [{ kty: 'oct', k: 'c2VjcmV0' }],
    [{ kty: 'constructor' }],
    [{ kty: 'EC', crv: 'P-256', x: 'a' }],
    [{ kty: 'RSA', n: 1, e: 'AQAB' }],
  ])('has none for %j', (jwk) => {
    expect(jwkThumbprint(jwk)).toBeUndefined();
  });
});

describe('htu normalisation (RFC 3986 §6.2.2, §6.2.3)', () => {
  it.each([
    ['HTTPS://API.EXAMPLE.COM:443/mcp'],
    ['https://api.example.com/%6Dcp'],
    ['https://api.example.com/a/../mcp'],
  ])('treats %s as https://api.example.com/mcp', (uri) => {
    expect(normalizeHtu(uri)).toBe(HTU);
  });

  it('keeps reserved characters encoded, upper-cases the hex, and keeps the trailing slash', () => {
    expect(normalizeHtu('https://a.example/m%2fcp')).toBe('https://a.example/m%2Fcp');
    expect(normalizeHtu('https://a.example/m%2fcp')).not.toBe(
      normalizeHtu('https://a.example/m/cp'),
    );
    expect(normalizeHtu('https://a.example/~mcp')).toBe(normalizeHtu('https://a.example/%7Emcp'));
    expect(normalizeHtu('https://a.example/mcp/')).not.toBe(normalizeHtu('https://a.example/mcp'));
    expect(normalizeHtu('https://a.example')).toBe('https://a.example/');
  });

  it('refuses what is not an absolute http(s) URI', () => {
    for (const uri of ['/mcp', 'ftp://a.example/x', 'https://u:p@a.example/x', 'not a uri']) {
      expect(normalizeHtu(uri)).toBeUndefined();
    }
  });

  it('builds the request URI from the public URL and the received path, never from elsewhere', () => {
    expect(requestHtu('https://api.example.com', '/mcp?x=1#f')).toBe(HTU);
    expect(requestHtu('https://api.example.com/v1/', '/posts')).toBe(
      'https://api.example.com/v1/posts',
    );
    // An absolute-form target (RFC 9112 §3.2.2) gives its path; its origin is the client's word.
    expect(requestHtu('https://api.example.com', 'http://evil.example/mcp?x')).toBe(HTU);
    expect(requestHtu('https://api.example.com', 'http://evil.example')).toBe(
      'https://api.example.com/',
    );
    expect(requestHtu('https://api.example.com', '//evil.example/mcp')).toBeUndefined();
    expect(requestHtu('https://api.example.com', '*')).toBeUndefined();
  });

  it.each([
    ['/x/../admin'],
    ['/x/%2e%2e/admin'],
    ['/x/%2E./admin'],
    ['/./mcp'],
    ['/mcp/..'],
    ['/x\\..\\admin'],
  ])(
    'refuses a target with a dot segment or a backslash (%s), which routers take literally',
    (target) => {
      expect(requestHtu('https://api.example.com/api', target)).toBeUndefined();
    },
  );

  it('keeps dots that are not segments', () => {
    expect(requestHtu('https://api.example.com', '/v1.2/..files/a.b')).toBe(
      'https://api.example.com/v1.2/..files/a.b',
    );
  });
});

describe('verifyDpopProof (RFC 9449 §4.3)', () => {
  it('has the RFC 9449 §7.1 ath vector', () => {
    expect(accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe(
      'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo',
    );
  });

  it.each([
    ['ES256', EC],
    ['RS256', RSA],
    ['PS256', { ...RSA, alg: 'PS256' }],
    ['EdDSA', ED],
    ['ES384', key('ec', { namedCurve: 'P-384' }, 'ES384')],
  ])('accepts a valid %s proof and returns its key thumbprint, jti and iat', async (_, signer) => {
    const jkt = jwkThumbprint(signer.jwk)!;
    await expect(check(proof(signer), jkt)).resolves.toEqual({
      jkt,
      alg: signer.alg,
      jti: 'e1j3V_bKic8-LAEB',
      iat: NOW,
      htu: HTU,
    });
  });

  it('accepts typ in media-type form and any case, an htu in another equivalent form, iat at the window edges', async () => {
    await expect(check(proof(EC, {}, { typ: 'application/dpop+jwt' }))).resolves.toBeDefined();
    await expect(check(proof(EC, {}, { typ: 'DPoP+JWT' }))).resolves.toBeDefined();
    await expect(
      check(proof(EC, { htu: 'HTTPS://api.example.com:443/%6dcp' })),
    ).resolves.toBeDefined();
    await expect(check(proof(EC, { iat: NOW - 300 }))).resolves.toBeDefined();
    await expect(check(proof(EC, { iat: NOW + 30 }))).resolves.toBeDefined();
  });

  const defects: [string, () => string][] = [
    ['not a JWS (two parts)', () => 'a.b'],
    ['a JWE (five parts)', () => 'a.b.c.d.e'],
    ['garbage', () => '!!!'],
    ['oversize', () => `${proof()}${'A'.repeat(9000)}`],
    ['typ missing', () => proof(EC, {}, { typ: undefined })],
    ['typ JWT', () => proof(EC, {}, { typ: 'JWT' })],
    ['typ at+jwt', () => proof(EC, {}, { typ: 'at+jwt' })],
    ['alg none', () => proof(EC, {}, { alg: 'none' })],
    ['alg HS256', () => proof(EC, {}, { alg: 'HS256' })],
    ['alg not allowed (RS512)', () => proof({ ...RSA, alg: 'RS512' })],
    ['ES256 with an RSA jwk', () => proof(EC, {}, { jwk: RSA.jwk })],
    [
      'ES256 with a P-384 jwk',
      () => proof(EC, {}, { jwk: key('ec', { namedCurve: 'P-384' }).jwk }),
    ],
    ['an EC jwk with d', () => proof(EC, {}, { jwk: EC.privateKey.export({ format: 'jwk' }) })],
    [
      'an RSA jwk with p, q, dp, dq, qi',
      () => proof(RSA, {}, { jwk: RSA.privateKey.export({ format: 'jwk' }) }),
    ],
    ['an oct jwk', () => proof(EC, {}, { jwk: { kty: 'oct', k: 'c2VjcmV0' } })],
    ['no jwk', () => proof(EC, {}, { jwk: undefined, kid: 'k1' })],
    ['a jwk that is a string', () => proof(EC, {}, { jwk: 'key' })],
    [
      'a jku instead of a jwk',
      () => proof(EC, {}, { jwk: undefined, jku: 'https://evil.example/jwks' }),
    ],
    ['an RSA-1024 jwk', () => proof(key('rsa', { modulusLength: 1024 }))],
    ['an EC point off the curve', () => proof(EC, {}, { jwk: { ...EC.jwk, y: EC.jwk.x } })],
    ['an unknown crit', () => proof(EC, {}, { crit: ['exp'], exp: 1 })],
    ['signed by another key than the jwk', () => proof({ ...key('ec'), jwk: EC.jwk })],
    ['htm POST on a GET', () => proof(EC, { htm: 'POST' })],
    ['htm in lower case', () => proof(EC, { htm: 'get' })],
    ['htu another path', () => proof(EC, { htu: 'https://api.example.com/admin' })],
    ['htu another host', () => proof(EC, { htu: 'https://evil.example/mcp' })],
    ['htu http', () => proof(EC, { htu: 'http://api.example.com/mcp' })],
    ['htu with a query', () => proof(EC, { htu: `${HTU}?x=1` })],
    ['htu with a fragment', () => proof(EC, { htu: `${HTU}#f` })],
    ['htu with a trailing slash', () => proof(EC, { htu: `${HTU}/` })],
    ['htu with an encoded slash', () => proof(EC, { htu: 'https://api.example.com/m%2Fcp' })],
    ['iat too old', () => proof(EC, { iat: NOW - 301 })],
    ['iat too far ahead', () => proof(EC, { iat: NOW + 31 })],
    ['iat missing', () => proof(EC, { iat: undefined })],
    ['iat a string', () => proof(EC, { iat: String(NOW) })],
    ['exp in the past', () => proof(EC, { exp: NOW - 1 })],
    ['jti missing', () => proof(EC, { jti: undefined })],
    ['jti empty', () => proof(EC, { jti: '' })],
    ['jti a number', () => proof(EC, { jti: 7 })],
    ['jti of 257 characters', () => proof(EC, { jti: 'j'.repeat(257) })],
    ['ath missing', () => proof(EC, { ath: undefined })],
    ['ath of another token', () => proof(EC, { ath: accessTokenHash('another') })],
    ['ath over "DPoP <token>"', () => proof(EC, { ath: accessTokenHash(`DPoP ${TOKEN}`) })],
    ['ath with base64 padding', () => proof(EC, { ath: `${accessTokenHash(TOKEN)}=` })],
  ];

  it.each(defects)('refuses a proof with %s as a proof defect', async (_, make) => {
    expect(await reason(check(make()))).toBe('proof');
  });

  it('refuses an RSA key with a huge public exponent before verifying anything with it', async () => {
    // e = 2^40 + 1: importable, and tens of times slower to verify with than 65537.
    const e = Buffer.from([0x01, 0x00, 0x00, 0x00, 0x00, 0x01]).toString('base64url');
    const jwk = { kty: 'RSA', n: RSA.jwk.n, e };
    const error = await check(proof(RSA, {}, { jwk })).then(
      () => undefined,
      (e: unknown) => e as VoxKeyDpopError,
    );
    expect(error?.reason).toBe('proof');
    expect(error?.message).toBe('the RSA public exponent is too large');
  });

  it('refuses a changed payload after signing', async () => {
    const [h, , s] = proof().split('.');
    const tampered = `${h}.${b64({ jti: 'x', htm: 'GET', htu: HTU, iat: NOW, ath: accessTokenHash(TOKEN) })}.${s}`;
    expect(await reason(check(tampered))).toBe('proof');
  });

  it('refuses a valid proof by another key than the token is bound to as a binding failure', async () => {
    expect(await reason(check(proof(EC), jwkThumbprint(RSA.jwk)!))).toBe('binding');
  });

  it('refuses a proof without an accepted nonce as a nonce failure, only once the rest is valid', async () => {
    const policy = { ...POLICY, acceptsNonce: (nonce: unknown) => nonce === 'n-1' };
    await expect(
      check(proof(EC, { nonce: 'n-1' }), undefined, 'GET', policy),
    ).resolves.toBeDefined();
    expect(await reason(check(proof(EC), undefined, 'GET', policy))).toBe('nonce');
    expect(await reason(check(proof(EC, { nonce: 'n-0' }), undefined, 'GET', policy))).toBe(
      'nonce',
    );
    // A defective proof is a proof failure whatever its nonce.
    expect(await reason(check(proof(EC, { htm: 'POST' }), undefined, 'GET', policy))).toBe('proof');
  });
});
