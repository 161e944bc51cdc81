// Shared by verify.ts, verify-server.ts and signature.ts: compact JWS tokens signed here, the
// ways of checking one that the library could use, and timing a synchronous check by CPU.
import { createRequire } from 'node:module';
import {
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
  verify,
  type VerifyKeyObjectInput,
} from 'node:crypto';
import * as jose5 from 'jose5';

/** The algorithms compared: RS256 with a 2048-bit key, ES256 (P-256), EdDSA (Ed25519). */
export const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** The digest `crypto.sign`/`crypto.verify` take for each algorithm (none for Ed25519). */
const DIGEST: Record<Algorithm, string | null> = { RS256: 'sha256', ES256: 'sha256', EdDSA: null };

export function generateKeys(alg: Algorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'RS256') return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return generateKeyPairSync('ed25519');
}

/** What `crypto.sign`/`crypto.verify` take as the key: JWS wants ECDSA signatures as r || s. */
function keyInput(alg: Algorithm, key: KeyObject): VerifyKeyObjectInput {
  return alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : { key };
}

/**
 * A compact JWS access token with ten claims, shaped like the realm's (`typ: at+jwt`, a `kid`):
 * about 700 characters with RS256.
 */
export function mintToken(
  alg: Algorithm,
  privateKey: KeyObject,
  kid: string,
  subject: string,
): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg, typ: 'at+jwt', kid };
  const payload = {
    iss: 'https://auth.voxkey.test/oauth2/4f2c7a0e-8d1b-4b7e-9c3a-2e5f6d7a8b9c',
    sub: subject,
    aud: 'https://bench-api.voxkey.test',
    iat: now,
    nbf: now,
    exp: now + 3600,
    jti: randomUUID(),
    client_id: 'bench-client',
    scope: 'openid profile read:posts write:posts',
    auth_time: now - 60,
  };
  const input = `${encode(header)}.${encode(payload)}`;
  const signature = sign(DIGEST[alg], Buffer.from(input), keyInput(alg, privateKey));
  return `${input}.${signature.toString('base64url')}`;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * The ways of verifying a token compared. Each decodes the header and the payload and checks
 * the signature with a `KeyObject` imported once; none checks the claims.
 */
export const METHODS = ['decode-only', 'sync', 'callback', 'jose4', 'jose5'] as const;
export type Method = (typeof METHODS)[number];

export const METHOD_NAMES: Record<Method, string> = {
  'decode-only': 'decode only, no signature check (floor)',
  sync: '`crypto.verify` one-shot, synchronous',
  callback: '`crypto.verify` one-shot, callback (thread pool)',
  jose4: 'jose 4.15 `compactVerify`',
  jose5: 'jose 5.10 `compactVerify`',
};

export type Claims = Record<string, unknown>;
/** Reports synchronously (`decode-only`, `sync`) or later (the others); never both. */
export type Verifier = (
  token: string,
  done: (error: Error | null, claims?: Claims) => void,
) => void;

/** jose 4.15, as jwks-rsa 3 depends on it (nested under jwks-rsa's own node_modules). */
const jose4 = createRequire(require.resolve('jwks-rsa'))('jose') as Pick<
  typeof jose5,
  'compactVerify'
>;

interface Parts {
  claims: Claims;
  data: Buffer;
  signature: Buffer;
}

/** Splits a compact JWS, decodes its header and payload, and checks `alg`. */
function decode(token: string, alg: Algorithm): Parts {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 1 || second < 0 || token.indexOf('.', second + 1) !== -1) {
    throw new Error('not a compact JWS');
  }
  const header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString()) as Claims;
  if (header.alg !== alg) throw new Error('unexpected alg');
  const claims = JSON.parse(
    Buffer.from(token.slice(first + 1, second), 'base64url').toString(),
  ) as Claims;
  return {
    claims,
    data: Buffer.from(token.slice(0, second), 'latin1'),
    signature: Buffer.from(token.slice(second + 1), 'base64url'),
  };
}

export function verifier(method: Method, alg: Algorithm, publicKey: KeyObject): Verifier {
  const digest = DIGEST[alg];
  const key = keyInput(alg, publicKey);
  const options = { algorithms: [alg] };
  const text = new TextDecoder();
  const bad = () => new Error('invalid signature');
  switch (method) {
    case 'decode-only':
      return (token, done) => {
        let parts: Parts;
        try {
          parts = decode(token, alg);
        } catch (error) {
          return done(error as Error);
        }
        done(null, parts.claims);
      };
    case 'sync':
      return (token, done) => {
        let parts: Parts;
        try {
          parts = decode(token, alg);
          if (!verify(digest, parts.data, key, parts.signature)) throw bad();
        } catch (error) {
          return done(error as Error);
        }
        done(null, parts.claims);
      };
    case 'callback':
      return (token, done) => {
        let parts: Parts;
        try {
          parts = decode(token, alg);
        } catch (error) {
          return done(error as Error);
        }
        verify(digest, parts.data, key, parts.signature, (error, ok) =>
          error ? done(error) : ok ? done(null, parts.claims) : done(bad()),
        );
      };
    case 'jose4':
    case 'jose5': {
      const lib = method === 'jose4' ? jose4 : jose5;
      return (token, done) => {
        lib.compactVerify(token, publicKey, options).then(
          (result) => done(null, JSON.parse(text.decode(result.payload)) as Claims),
          (error: Error) => done(error),
        );
      };
    }
  }
}

/**
 * The signature check alone: one synchronous one-shot `crypto.verify` of `token`'s signature
 * with `publicKey`, the token already split and decoded (what the library cannot avoid on a
 * first sight, whatever else it does).
 */
export function signatureCheck(token: string, alg: Algorithm, publicKey: KeyObject): () => void {
  const { data, signature } = decode(token, alg);
  const digest = DIGEST[alg];
  const key = keyInput(alg, publicKey);
  return () => {
    if (!verify(digest, data, key, signature)) throw new Error('invalid signature');
  };
}

/** The process's CPU time (user + system, all threads) in microseconds. */
export function processCpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/**
 * CPU µs per call of `run` over a loop bounded to about `ms` of wall time, and calls per second
 * of wall time.
 */
export function timeSync(run: () => void, ms: number): { cpuUs: number; perSecond: number } {
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  const cpu = processCpuMicros();
  let calls = 0;
  let now = start;
  do {
    for (let i = 0; i < 50; i++) run();
    calls += 50;
    now = process.hrtime.bigint();
  } while (now < deadline);
  const cpuUs = processCpuMicros() - cpu;
  return { cpuUs: cpuUs / calls, perSecond: calls / (Number(now - start) / 1e9) };
}
