import {
  constants,
  createHash,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { b64url } from './token-forge';

/**
 * A hand-made DPoP proof builder on node:crypto, independent of oauth4webapi (dpop-client.ts),
 * for the proofs no client library would make: every header member and claim can be replaced
 * or removed, a private `jwk` embedded, the proof signed by another key or algorithm, or altered
 * after signing. @see RFC 9449 §4.2
 */

/** A key that signs proofs. `DpopKey` (dpop-client.ts) is one. */
export interface ProofKey {
  privateKey: KeyObject;
  /** The `alg` of its proofs. @default by key type: ES256/384/512, RS256, EdDSA */
  alg?: string;
  /** The `jwk` its proofs embed. @default the public JWK of `privateKey` */
  publicJwk?: JsonWebKey;
}

/** Signs with `key` under `alg` (`HS*` with a secret key), or leaves the signature empty. */
export type SignWith = { key: KeyObject; alg: string } | 'none';

export interface ProofOptions {
  key: ProofKey;
  /** @default 'GET' */
  htm?: string;
  htu: string;
  /** The access token the proof goes with: sets `ath`. */
  accessToken?: string;
  /** Sets the `nonce` claim. */
  nonce?: string;
  /** The time, in seconds, for `iat`. @default now */
  now?: number;
  /** Header members over the defaults (`typ`, `alg`, `jwk`); a member set to `undefined` is left out. */
  header?: Record<string, unknown>;
  /** Claims over the defaults (`jti`, `htm`, `htu`, `iat`, `ath`, `nonce`); `undefined` leaves one out. */
  claims?: Record<string, unknown>;
  /** @default `key` under the header's `alg` */
  signWith?: SignWith;
  /** Claims replaced after signing, so that the signature no longer matches. */
  tamperedClaims?: Record<string, unknown>;
}

/**
 * A DPoP proof JWT, valid by default for `htm` `htu` (and `accessToken`) now.
 *
 * @example
 * // a proof that embeds the private key
 * buildProof({ key, htu, accessToken, header: { jwk: key.privateJwk } });
 * // a proof without jti, signed by another key
 * buildProof({ key, htu, claims: { jti: undefined }, signWith: { key: other, alg: 'ES256' } });
 */
export function buildProof(options: ProofOptions): string {
  const { key, htm = 'GET', htu, accessToken, nonce } = options;
  const alg = key.alg ?? defaultAlg(key.privateKey);
  const header = {
    typ: 'dpop+jwt',
    alg,
    jwk: key.publicJwk ?? publicJwkOf(key.privateKey),
    ...options.header,
  };
  const claims = {
    jti: randomUUID(),
    htm,
    htu,
    iat: options.now ?? Math.floor(Date.now() / 1000),
    ...(accessToken === undefined ? {} : { ath: athOf(accessToken) }),
    ...(nonce === undefined ? {} : { nonce }),
    ...options.claims,
  };
  const signWith = options.signWith ?? { key: key.privateKey, alg: String(header.alg) };
  const jws = signJws(header, claims, signWith);
  if (!options.tamperedClaims) return jws;
  const [protectedHeader, , signature] = jws.split('.');
  return `${protectedHeader}.${b64url({ ...claims, ...options.tamperedClaims })}.${signature}`;
}

/**
 * A compact JWS over `header` and `payload`, objects (JSON-serialised, `undefined` members left
 * out) or strings taken as the JSON text itself (for duplicate members, odd spacing, ...).
 */
export function signJws(
  header: object | string,
  payload: object | string,
  signWith: SignWith,
): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${signatureOf(input, signWith).toString('base64url')}`;
}

function signatureOf(input: string, signWith: SignWith): Buffer {
  if (signWith === 'none') return Buffer.alloc(0);
  const { key, alg } = signWith;
  const data = Buffer.from(input);
  const family = alg.slice(0, 2);
  const digest = `sha${alg.slice(2)}`;
  if (alg === 'EdDSA' || alg === 'Ed25519' || alg === 'Ed448') return sign(null, data, key);
  if (/^(HS|RS|PS|ES)(256|384|512)$/.test(alg)) {
    if (family === 'HS') return createHmac(digest, key).update(data).digest();
    if (family === 'RS') return sign(digest, data, key);
    if (family === 'PS') {
      return sign(digest, data, {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      });
    }
    return sign(digest, data, { key, dsaEncoding: 'ieee-p1363' });
  }
  throw new Error(`signJws: no signer for alg ${alg}`);
}

/**
 * The `ath` claim: base64url SHA-256 of the access token's ASCII.
 * @see RFC 9449 §4.2
 */
export function athOf(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

const THUMBPRINT_MEMBERS: Record<string, string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
  oct: ['k', 'kty'],
};

/**
 * The RFC 7638 JWK thumbprint (SHA-256, base64url): the required members only, in lexicographic
 * order, without whitespace; what `cnf.jkt` holds.
 * @see RFC 7638 §3, RFC 9449 §6.1
 */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members = THUMBPRINT_MEMBERS[jwk.kty ?? ''];
  if (!members) throw new Error(`jwkThumbprint: unsupported kty ${jwk.kty}`);
  const canonical = JSON.stringify(
    Object.fromEntries(members.map((name) => [name, (jwk as Record<string, unknown>)[name]])),
  );
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The public JWK of a key, as a proof embeds it. */
export function publicJwkOf(key: KeyObject): JsonWebKey {
  return createPublicKey(key).export({ format: 'jwk' });
}

/**
 * A node:crypto key for `alg` (ES*, RS*, PS*, EdDSA, Ed25519), including the ones a proof must
 * not use: `curve` (e.g. a P-384 key for ES256) and `modulusLength` (e.g. 1024 bits) override
 * what `alg` implies. `privateJwk` is there to embed in a proof.
 */
export function generateProofKey(
  alg: string,
  { curve, modulusLength = 2048 }: { curve?: string; modulusLength?: number } = {},
): ProofKey & { alg: string; privateJwk: JsonWebKey } {
  const privateKey = privateKeyFor(alg, curve, modulusLength);
  return { privateKey, alg, privateJwk: privateKey.export({ format: 'jwk' }) };
}

function privateKeyFor(alg: string, curve: string | undefined, modulusLength: number): KeyObject {
  const family = alg.slice(0, 2);
  if (family === 'ES') {
    const namedCurve = curve ?? { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg];
    if (namedCurve) return generateKeyPairSync('ec', { namedCurve }).privateKey;
  }
  // PS* proofs carry an RSA JWK: a plain RSA key signs with PSS padding too.
  if (family === 'RS' || family === 'PS') {
    return generateKeyPairSync('rsa', { modulusLength }).privateKey;
  }
  if (alg === 'EdDSA' || alg === 'Ed25519') return generateKeyPairSync('ed25519').privateKey;
  throw new Error(`generateProofKey: unsupported alg ${alg}`);
}

function defaultAlg(key: KeyObject): string {
  const { asymmetricKeyType, asymmetricKeyDetails } = key;
  if (asymmetricKeyType === 'ec') {
    const alg = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }[
      asymmetricKeyDetails?.namedCurve ?? ''
    ];
    if (alg) return alg;
  }
  if (asymmetricKeyType === 'rsa') return 'RS256';
  if (asymmetricKeyType === 'ed25519') return 'EdDSA';
  throw new Error(`buildProof: give 'alg' for a ${asymmetricKeyType} key`);
}
