import { type KeyObject, randomUUID } from 'node:crypto';
import { accessTokenHash } from '../dpop/dpop-proof.verifier.js';
import { jwkThumbprint } from '../dpop/jwk-thumbprint.js';
import { generateKeyPairFor, signJws, type TestRealmAlgorithm } from './test-realm.js';

/** What to put in a proof besides the defaults; `undefined` removes a member. */
export interface DpopProofOptions {
  /** The access token the proof is for (its `ath`); without it, no `ath` (a token request's proof). */
  accessToken?: string;
  /** The server nonce (`nonce`). */
  nonce?: string;
  /** `iat`, in seconds. @default now */
  iat?: number;
  /** `jti`. @default a random UUID */
  jti?: string;
  /** Extra or replaced claims. */
  claims?: Record<string, unknown>;
  /** Extra or replaced header parameters (`typ`, `alg`, `jwk`, ...). */
  header?: Record<string, unknown>;
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/**
 * A client's DPoP key for tests: the `cnf` to mint a bound token with, and proofs for requests.
 * @example
 * const key = DpopTestKey.generate();
 * const token = realm.mint({ scope: 'read:posts', dpopKey: key });
 * await request(app.getHttpServer())
 *   .get('/posts')
 *   .set('Authorization', `DPoP ${token}`)
 *   .set('DPoP', key.proof('GET', 'https://api.example.com/posts', { accessToken: token }));
 * @see RFC 9449 §4.2, §6.1
 */
export class DpopTestKey {
  /** The public key, as proofs carry it. */
  readonly publicJwk: Record<string, unknown>;
  /** Its RFC 7638 thumbprint: the `cnf.jkt` of tokens bound to it. */
  readonly jkt: string;

  private constructor(
    readonly alg: TestRealmAlgorithm,
    private readonly privateKey: KeyObject,
    publicKey: KeyObject,
  ) {
    this.publicJwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    this.jkt = jwkThumbprint(this.publicJwk)!;
  }

  /** A new key pair. @default 'ES256' */
  static generate(alg: TestRealmAlgorithm = 'ES256'): DpopTestKey {
    const { privateKey, publicKey } = generateKeyPairFor(alg);
    return new DpopTestKey(alg, privateKey, publicKey);
  }

  /** The `cnf` claim of a token bound to this key. */
  get cnf(): { jkt: string } {
    return { jkt: this.jkt };
  }

  /** A proof for `method` on `url` (the URL the client calls; its query is left out of `htu`). */
  proof(method: string, url: string, options: DpopProofOptions = {}): string {
    const target = new URL(url);
    const header = withoutUndefined({
      typ: 'dpop+jwt',
      alg: this.alg,
      jwk: this.publicJwk,
      ...options.header,
    });
    const payload = withoutUndefined({
      jti: options.jti ?? randomUUID(),
      htm: method,
      htu: `${target.origin}${target.pathname}`,
      iat: options.iat ?? Math.floor(Date.now() / 1000),
      ath: options.accessToken === undefined ? undefined : accessTokenHash(options.accessToken),
      nonce: options.nonce,
      ...options.claims,
    });
    return signJws(header, payload, this.privateKey, this.alg);
  }
}
