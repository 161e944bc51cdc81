import { constants, type KeyObject, verify, type VerifyKeyObjectInput } from 'node:crypto';
import type { VoxKeyAlgorithm } from '../interfaces/voxkey-module-options.interface.js';

/** How node:crypto checks one JWS algorithm. */
interface AlgorithmParameters {
  /** Digest of the signing input; null for EdDSA, which hashes internally. */
  readonly digest: string | null;
  readonly padding?: number;
  readonly saltLength?: number;
  /** ECDSA signatures in a JWS are R || S, not DER. */
  readonly dsaEncoding?: 'ieee-p1363';
  /** Exact length of an ECDSA signature, in bytes. */
  readonly signatureBytes?: number;
  /**
   * Whether to verify on libuv's thread pool: worth it for ECDSA and EdDSA, whose checks are
   * slow; not for RSA, whose check costs less than the hand-off (bench/README.md).
   */
  readonly offThread: boolean;
}

const PSS = {
  padding: constants.RSA_PKCS1_PSS_PADDING,
  saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
  offThread: false,
};

/** @see RFC 7518 §3.3 (RS), §3.4 (ES), §3.5 (PS); RFC 8037 §3.1 (EdDSA) */
const ALGORITHMS: Readonly<Record<VoxKeyAlgorithm, AlgorithmParameters>> = {
  RS256: { digest: 'sha256', offThread: false },
  RS384: { digest: 'sha384', offThread: false },
  RS512: { digest: 'sha512', offThread: false },
  PS256: { digest: 'sha256', ...PSS },
  PS384: { digest: 'sha384', ...PSS },
  PS512: { digest: 'sha512', ...PSS },
  ES256: { digest: 'sha256', dsaEncoding: 'ieee-p1363', signatureBytes: 64, offThread: true },
  ES384: { digest: 'sha384', dsaEncoding: 'ieee-p1363', signatureBytes: 96, offThread: true },
  ES512: { digest: 'sha512', dsaEncoding: 'ieee-p1363', signatureBytes: 132, offThread: true },
  EdDSA: { digest: null, offThread: true },
};

/**
 * Whether the signature of a compact JWS (`header.payload.signature`, already split and checked
 * by `decodeJwsHeader`) verifies under `key` with `alg`, with Node's one-shot `crypto.verify`:
 * on libuv's thread pool for ECDSA and EdDSA (so a burst of new tokens does not hold up the
 * event loop), on the calling thread for RSA. The caller has checked that the key fits `alg`.
 */
export function verifyJwsSignature(
  token: string,
  alg: VoxKeyAlgorithm,
  key: KeyObject,
): Promise<boolean> {
  const parameters = ALGORITHMS[alg];
  const dot = token.lastIndexOf('.');
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  if (parameters.signatureBytes !== undefined && signature.length !== parameters.signatureBytes) {
    return Promise.resolve(false);
  }
  const input: VerifyKeyObjectInput = {
    key,
    padding: parameters.padding,
    saltLength: parameters.saltLength,
    dsaEncoding: parameters.dsaEncoding,
  };
  const data = Buffer.from(token.slice(0, dot), 'latin1');
  if (!parameters.offThread) {
    try {
      return Promise.resolve(verify(parameters.digest, data, input, signature));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return new Promise((resolve, reject) => {
    verify(parameters.digest, data, input, signature, (error, valid) =>
      error ? reject(error) : resolve(valid),
    );
  });
}
