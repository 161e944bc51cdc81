import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { VoxKeyDpopError } from '../errors/voxkey.errors.js';
import type { VoxKeyAlgorithm } from '../interfaces/voxkey-module-options.interface.js';
import { decodeJsonSegment, decodeJwsHeader } from '../token/jws-header.js';
import { verifyJwsSignature } from '../token/jws-signature.js';
import { normalizeHtu } from './htu.js';
import { jwkThumbprint } from './jwk-thumbprint.js';

/** Longest `DPoP` header read: a proof with an RSA-4096 key is about 1.5 KB. */
export const MAX_PROOF_LENGTH = 8192;
/** Longest `jti` kept: enough for any random identifier, no room to fill a store. @see RFC 9449 §11.1 */
const MAX_JTI_LENGTH = 256;
const PROOF_TYPES = new Set(['dpop+jwt', 'application/dpop+jwt']);
/** JWK members of private or symmetric keys: a proof carries a public key only. @see RFC 9449 §4.2 */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const RSA_BITS = { min: 2048, max: 4096 };
/** The key type (and curve) each algorithm needs: JWK `kty`/`crv`, then node:crypto's names. */
const KEY_TYPES: Readonly<
  Record<VoxKeyAlgorithm, { kty: string; crv?: readonly string[]; node: readonly string[] }>
> = {
  RS256: { kty: 'RSA', node: ['rsa'] },
  RS384: { kty: 'RSA', node: ['rsa'] },
  RS512: { kty: 'RSA', node: ['rsa'] },
  PS256: { kty: 'RSA', node: ['rsa'] },
  PS384: { kty: 'RSA', node: ['rsa'] },
  PS512: { kty: 'RSA', node: ['rsa'] },
  ES256: { kty: 'EC', crv: ['P-256'], node: ['ec'] },
  ES384: { kty: 'EC', crv: ['P-384'], node: ['ec'] },
  ES512: { kty: 'EC', crv: ['P-521'], node: ['ec'] },
  EdDSA: { kty: 'OKP', crv: ['Ed25519', 'Ed448'], node: ['ed25519', 'ed448'] },
};

/** What a proof is checked against: the request as this API received it, and the token. */
export interface DpopProofRequest {
  /** The `DPoP` header's value (exactly one header). */
  readonly proof: string;
  /** The request method, as received. */
  readonly method: string;
  /** The request's public URI, already normalised (`requestHtu`). */
  readonly htu: string;
  /** The access token the request carries under the `DPoP` scheme. */
  readonly accessToken: string;
  /** The thumbprint the token is bound to (`cnf.jkt`). */
  readonly jkt: string;
}

/** The checks' settings. */
export interface DpopProofPolicy {
  readonly algorithms: readonly VoxKeyAlgorithm[];
  /** Oldest `iat` accepted, in seconds before now. */
  readonly maxAgeSec: number;
  /** Newest `iat` accepted, in seconds after now (clock skew). */
  readonly futureLeewaySec: number;
  /** Whether the proof's `nonce` claim is one this server issued and still accepts; absent without nonces. */
  readonly acceptsNonce?: (nonce: unknown) => boolean;
}

/** A proof that passed every check. */
export interface VerifiedDpopProof {
  /** RFC 7638 thumbprint of the proof's key (equal to the token's `cnf.jkt`). */
  readonly jkt: string;
  readonly alg: VoxKeyAlgorithm;
  readonly jti: string;
  readonly iat: number;
  /** The normalised URI the proof is for. */
  readonly htu: string;
}

function refuse(message: string): never {
  throw new VoxKeyDpopError('proof', message);
}

/** base64url(SHA-256(ASCII(token))), the proof's `ath`. @see RFC 9449 §4.2 */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

/** The proof's embedded public key, checked against `alg` before any crypto runs. */
function proofJwk(header: Record<string, unknown>, alg: VoxKeyAlgorithm): Record<string, unknown> {
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    refuse('the header has no jwk object');
  }
  const key = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(key, member))) {
    refuse('the jwk holds private or symmetric key material');
  }
  const expected = KEY_TYPES[alg];
  if (key.kty !== expected.kty) refuse('the jwk key type does not fit alg');
  if (expected.crv !== undefined && !expected.crv.includes(key.crv as string)) {
    refuse('the jwk curve does not fit alg');
  }
  return key;
}

/** The key node:crypto verifies with; a JWK it cannot import (a point off the curve, ...) is refused. */
function publicKeyOf(jwk: Record<string, unknown>, alg: VoxKeyAlgorithm): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as never, format: 'jwk' });
  } catch {
    refuse('the jwk is not a valid public key');
  }
  if (key.type !== 'public' || !KEY_TYPES[alg].node.includes(key.asymmetricKeyType ?? '')) {
    refuse('the jwk key type does not fit alg');
  }
  const details = key.asymmetricKeyDetails;
  // A huge public exponent makes one RSA verification tens of times slower.
  const exponent = details?.publicExponent;
  if (exponent !== undefined && exponent > 2n ** 32n)
    refuse('the RSA public exponent is too large');
  const bits = details?.modulusLength;
  if (
    KEY_TYPES[alg].kty === 'RSA' &&
    (bits === undefined || bits < RSA_BITS.min || bits > RSA_BITS.max)
  ) {
    refuse('the RSA key is shorter than 2048 or longer than 4096 bits');
  }
  return key;
}

/**
 * Checks a DPoP proof for one request, cheap checks first and the signature last, so a junk
 * proof costs no crypto: size and shape, `typ` `dpop+jwt`, `alg` in the allow-list, no `crit`, an
 * embedded public `jwk` of the algorithm's key type, `jti`, `htm` equal to the method, `htu`
 * equal to the request URI (normalised, no query or fragment in the proof), `iat` in the window
 * (and `exp`/`nbf` when present), `ath` the hash of the access token, the key's thumbprint equal
 * to the token's `cnf.jkt`, the signature, then the server nonce when nonces are on. Only the
 * embedded key counts: `kid`, `jku`, `x5u` and `x5c` are never followed.
 *
 * Throws `VoxKeyDpopError`: `binding` for a proof by another key than the token's, `nonce` for a
 * valid proof without an accepted nonce, `proof` for every other defect.
 * @see RFC 9449 §4.2, §4.3, §6.1, §7.1, §8
 */
export async function verifyDpopProof(
  request: DpopProofRequest,
  policy: DpopProofPolicy,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<VerifiedDpopProof> {
  const { proof } = request;
  if (proof.length > MAX_PROOF_LENGTH) refuse('the proof is too large');
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = decodeJwsHeader(proof);
    payload = decodeJsonSegment(proof.split('.')[1], 'payload');
  } catch {
    refuse('the proof is not a compact JWS with JSON header and payload');
  }
  const { typ, alg } = header;
  if (typeof typ !== 'string' || !PROOF_TYPES.has(typ.toLowerCase())) {
    refuse('typ is not dpop+jwt');
  }
  if (typeof alg !== 'string' || !(policy.algorithms as readonly string[]).includes(alg)) {
    refuse('alg is missing or not in the allow-list');
  }
  const algorithm = alg as VoxKeyAlgorithm;
  if (Object.hasOwn(header, 'crit') || Object.hasOwn(header, 'b64')) {
    refuse('the header carries crit or b64');
  }
  const jwk = proofJwk(header, algorithm);

  const { jti, htm, htu, iat, exp, nbf, ath } = payload;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) {
    refuse('jti is missing, empty, not a string or too long');
  }
  if (htm !== request.method) refuse('htm is not the request method');
  if (typeof htu !== 'string' || /[?#]/.test(htu) || normalizeHtu(htu) !== request.htu) {
    refuse('htu is not the request URI');
  }
  if (typeof iat !== 'number' || !Number.isFinite(iat)) refuse('iat is missing or not a number');
  if (iat < nowSeconds - policy.maxAgeSec) refuse('iat is older than maxAgeSec');
  if (iat > nowSeconds + policy.futureLeewaySec) refuse('iat is in the future');
  if (exp !== undefined && (typeof exp !== 'number' || exp <= nowSeconds)) {
    refuse('exp is not a number or in the past');
  }
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowSeconds + policy.futureLeewaySec)) {
    refuse('nbf is not a number or in the future');
  }
  if (typeof ath !== 'string' || ath !== accessTokenHash(request.accessToken)) {
    refuse('ath is not the hash of the access token');
  }
  const jkt = jwkThumbprint(jwk);
  if (jkt === undefined) refuse('the jwk has no thumbprint');
  if (jkt !== request.jkt) {
    throw new VoxKeyDpopError('binding', 'the proof key is not the key the token is bound to');
  }

  const key = publicKeyOf(jwk, algorithm);
  let valid: boolean;
  try {
    valid = await verifyJwsSignature(proof, algorithm, key);
  } catch {
    valid = false;
  }
  if (!valid) refuse('the signature does not verify with the embedded jwk');
  if (policy.acceptsNonce !== undefined && !policy.acceptsNonce(payload.nonce)) {
    throw new VoxKeyDpopError('nonce', 'the nonce is missing, unknown or expired');
  }
  return { jkt, alg: algorithm, jti, iat, htu: request.htu };
}
