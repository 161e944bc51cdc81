import { createSecretKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose';
import { createDpopKey } from '../../support/dpop-client';
import {
  athOf,
  buildProof,
  generateProofKey,
  jwkThumbprint,
  publicJwkOf,
  signJws,
} from '../../support/dpop-proof';
import { payloadOf } from '../../support/token-forge';

// The test helpers the DPoP suites build on, checked against the RFC vectors and against jose
// (an independent verifier), so that a refusal in those suites is the library's doing.
const HTU = 'https://api.example.test/v1/posts';

describe('DPoP hashing helpers', () => {
  it('athOf gives the RFC 9449 §7.1 example', () => {
    expect(athOf('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe(
      'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo',
    );
  });

  it('jwkThumbprint gives the RFC 7638 §3.1 example, whatever other members the JWK has', () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('jwkThumbprint gives the RFC 9449 §6.1 example (EC)', () => {
    const jwk = {
      kty: 'EC',
      x: 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs',
      y: '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA',
      crv: 'P-256',
    };
    expect(jwkThumbprint(jwk)).toBe('0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I');
  });

  it.each(['ES256', 'RS256', 'EdDSA'])(
    'jwkThumbprint agrees with jose and oauth4webapi for a %s key',
    async (alg) => {
      const key = await createDpopKey(alg);
      expect(jwkThumbprint(key.publicJwk)).toBe(key.jkt);
      expect(jwkThumbprint(key.publicJwk)).toBe(
        await calculateJwkThumbprint(key.publicJwk as Parameters<typeof calculateJwkThumbprint>[0]),
      );
      // The private members do not count either.
      expect(jwkThumbprint(key.privateJwk)).toBe(key.jkt);
    },
  );
});

describe('buildProof', () => {
  const verify = (proof: string, alg: string) =>
    jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [alg] });

  it.each(['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA'])(
    'makes a %s proof that jose verifies, with the RFC 9449 §4.2 claims',
    async (alg) => {
      const key = generateProofKey(alg);
      const { payload, protectedHeader } = await verify(
        buildProof({ key, htm: 'POST', htu: HTU, accessToken: 'tok', nonce: 'n-1' }),
        alg,
      );
      expect(protectedHeader).toEqual({ typ: 'dpop+jwt', alg, jwk: publicJwkOf(key.privateKey) });
      expect(payload).toEqual({
        jti: expect.any(String),
        htm: 'POST',
        htu: HTU,
        iat: expect.any(Number),
        ath: athOf('tok'),
        nonce: 'n-1',
      });
      expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(5);
    },
  );

  it('signs with an oauth4webapi key, under the alg it was made for', async () => {
    const key = await createDpopKey('Ed25519');
    const proof = buildProof({ key, htu: HTU });
    expect(decodeProtectedHeader(proof)).toMatchObject({ alg: 'Ed25519', jwk: key.publicJwk });
    await expect(verify(proof, 'Ed25519')).resolves.toBeDefined();
  });

  it('gives each proof its own jti', () => {
    const key = generateProofKey('ES256');
    const jtis = new Set([1, 2, 3].map(() => payloadOf(buildProof({ key, htu: HTU })).jti));
    expect(jtis.size).toBe(3);
  });

  it('replaces or removes header members and claims', async () => {
    const key = generateProofKey('ES256');
    const proof = buildProof({
      key,
      htu: HTU,
      now: 1_700_000_000,
      header: { typ: undefined, jwk: key.privateJwk, crit: ['x'], x: 1 },
      claims: { jti: undefined, htm: 'get', iat: '1700000000', extra: true },
    });
    const header = decodeProtectedHeader(proof) as Record<string, unknown>;
    expect(header).toEqual({ alg: 'ES256', jwk: key.privateJwk, crit: ['x'], x: 1 });
    expect((header.jwk as JsonWebKey).d).toEqual(expect.any(String));
    expect(payloadOf(proof)).toEqual({ htm: 'get', htu: HTU, iat: '1700000000', extra: true });
    expect(payloadOf(buildProof({ key, htu: HTU, now: 1_700_000_000 })).iat).toBe(1_700_000_000);
  });

  it('signs with another key than the one it embeds, which jose refuses', async () => {
    const key = generateProofKey('ES256');
    const other = generateProofKey('ES256');
    const proof = buildProof({ key, htu: HTU, signWith: { key: other.privateKey, alg: 'ES256' } });
    expect(decodeProtectedHeader(proof).jwk).toEqual(publicJwkOf(key.privateKey));
    await expect(verify(proof, 'ES256')).rejects.toThrow('signature verification failed');
    // The same signature checks out with the other key's public half.
    await expect(
      verify(
        buildProof({
          key: { ...key, publicJwk: publicJwkOf(other.privateKey) },
          htu: HTU,
          signWith: { key: other.privateKey, alg: 'ES256' },
        }),
        'ES256',
      ),
    ).resolves.toBeDefined();
  });

  it('changes claims after signing, which jose refuses', async () => {
    const key = generateProofKey('ES256');
    const proof = buildProof({ key, htu: HTU, tamperedClaims: { htu: 'https://evil.test/' } });
    expect(payloadOf(proof).htu).toBe('https://evil.test/');
    await expect(verify(proof, 'ES256')).rejects.toThrow('signature verification failed');
  });

  it('makes alg none and HS256 proofs', async () => {
    const key = generateProofKey('ES256');
    const none = buildProof({ key, htu: HTU, header: { alg: 'none' }, signWith: 'none' });
    expect(none.endsWith('.')).toBe(true);
    expect(decodeProtectedHeader(none).alg).toBe('none');
    const secret = createSecretKey(Buffer.alloc(32, 7));
    const hs = buildProof({
      key,
      htu: HTU,
      header: { alg: 'HS256', jwk: { kty: 'oct', k: secret.export().toString('base64url') } },
      signWith: { key: secret, alg: 'HS256' },
    });
    await expect(
      jwtVerify(hs, secret, { typ: 'dpop+jwt', algorithms: ['HS256'] }),
    ).resolves.toBeDefined();
  });

  it('signJws takes the JSON text itself, duplicate members included', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jws = signJws('{"alg":"ES256","alg":"none"}', '{"a":1}', {
      key: privateKey,
      alg: 'ES256',
    });
    const [header, payload, signature] = jws.split('.');
    expect(Buffer.from(header, 'base64url').toString()).toBe('{"alg":"ES256","alg":"none"}');
    expect(Buffer.from(payload, 'base64url').toString()).toBe('{"a":1}');
    expect(Buffer.from(signature, 'base64url')).toHaveLength(64);
  });

  it('generateProofKey makes the keys a proof must not use', () => {
    expect(generateProofKey('ES256', { curve: 'P-384' }).privateJwk.crv).toBe('P-384');
    const small = generateProofKey('RS256', { modulusLength: 1024 });
    expect(Buffer.from(small.privateJwk.n!, 'base64url')).toHaveLength(128);
    expect(() => generateProofKey('HS256')).toThrow('unsupported alg HS256');
  });
});
