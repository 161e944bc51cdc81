import { certificateThumbprint } from '../mtls/client-certificate.js';
import {
  createHash,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomUUID,
  sign,
  constants,
} from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VoxKeyModuleOptions } from '../interfaces/voxkey-module-options.interface.js';
import { getVoxKeyEndpoints, type VoxKeyEndpoints } from '../realm/realm-endpoints.js';

/** Algorithms the test realm can sign with. */
export type TestRealmAlgorithm =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

/** Options of `VoxKeyTestRealm.start()`. */
export interface TestRealmOptions {
  /** Audience of minted tokens and of `moduleOptions()`. @default 'https://api.example.test' */
  audience?: string | string[];
  /** Realm UUID. @default a random UUID */
  realm?: string;
  /** Signing algorithm of the realm's keys. @default 'RS256' */
  algorithm?: TestRealmAlgorithm;
  /** The `kid` of the realm's first key (to test realms whose `kid`s collide). @default its thumbprint */
  kid?: string;
}

/** What to put in a minted token. Every field is optional. */
export interface MintOptions {
  /** Scopes, as a list or a space-delimited string; omitted when undefined. */
  scope?: string | string[];
  /** `sub`. @default 'test-user' */
  subject?: string;
  /** Lifetime in seconds from `iat`. @default 300 */
  expiresIn?: number;
  /** Extra claims; they override the defaults, and `undefined` removes a claim. */
  claims?: Record<string, unknown>;
  /** Header parameters; they override `alg`, `typ` and `kid`, and `undefined` removes one. */
  header?: Record<string, unknown>;
  /** Sign with the key of this `kid` (a current or retired key of the realm). */
  kid?: string;
  /** Bind the token to this DPoP key (`cnf.jkt`). @see RFC 9449 §6 */
  dpopKey?: { readonly jkt: string };
  /** Bind the token to this client certificate, PEM or DER (`cnf.x5t#S256`). @see RFC 8705 §3.1 */
  certificate?: string | Buffer;
}

interface RealmSigningKey {
  kid: string;
  alg: TestRealmAlgorithm;
  privateKey: KeyObject;
  publicJwk: JsonWebKey;
}

const HASHES: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const CURVES: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

function base64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/** The `cnf` of a bound token: the DPoP key's thumbprint and/or the certificate's. */
function confirmation({ dpopKey, certificate }: MintOptions): Record<string, string> {
  const thumbprint = certificate === undefined ? undefined : certificateThumbprint(certificate);
  if (certificate !== undefined && thumbprint === undefined) {
    throw new Error('mint(): the certificate does not parse');
  }
  return withoutUndefined({ jkt: dpopKey?.jkt, 'x5t#S256': thumbprint }) as Record<string, string>;
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/**
 * A new key pair for `alg`: Ed25519, the algorithm's curve, or RSA-2048.
 * @example
 * const { privateKey, publicKey } = generateKeyPairFor('ES256');
 */
export function generateKeyPairFor(alg: TestRealmAlgorithm): {
  privateKey: KeyObject;
  publicKey: KeyObject;
} {
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519');
  if (alg.startsWith('ES')) return generateKeyPairSync('ec', { namedCurve: CURVES[alg] });
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

function generateKey(alg: TestRealmAlgorithm, chosenKid?: string): RealmSigningKey {
  const { privateKey, publicKey } = generateKeyPairFor(alg);
  const publicJwk = publicKey.export({ format: 'jwk' });
  const kid =
    chosenKid ??
    createHash('sha256').update(JSON.stringify(publicJwk)).digest('base64url').slice(0, 16);
  return { kid, alg, privateKey, publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
}

/**
 * Signs `header.payload` with a key, the way the realm would: for tokens that `mint()` cannot
 * make (a hand-built header, a foreign key).
 * @example
 * const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
 * const forged = signJws({ alg: 'RS256', kid: realm.currentKid }, { sub: 'x' }, privateKey, 'RS256');
 */
export function signJws(
  header: Record<string, unknown>,
  payload: unknown,
  privateKey: KeyObject,
  alg: TestRealmAlgorithm,
): string {
  const input = `${base64url(header)}.${base64url(payload)}`;
  // EdDSA hashes internally: node:crypto takes no digest for Ed25519 keys.
  const hash = alg === 'EdDSA' ? null : HASHES[alg.slice(2)];
  const signature = sign(hash, Buffer.from(input), {
    key: privateKey,
    dsaEncoding: 'ieee-p1363',
    ...(alg.startsWith('PS')
      ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
      : {}),
  });
  return `${input}.${signature.toString('base64url')}`;
}

/**
 * A local VoxKey realm for tests: serves a JWKS on 127.0.0.1 (ephemeral port) at the realm's
 * real path, mints tokens with chosen scopes, claims and headers, rotates keys, and can play
 * an unavailable JWKS endpoint.
 *
 * @example
 * const realm = await VoxKeyTestRealm.start({ audience: 'https://api.example.test' });
 * const moduleRef = await Test.createTestingModule({
 *   imports: [VoxKeyModule.forRoot(realm.moduleOptions()), AppModule],
 * }).compile();
 * const token = realm.mint({ scope: 'read:posts' });
 * // ... request with `Authorization: Bearer ${token}`
 * await realm.close();
 */
export class VoxKeyTestRealm {
  /** Realm URLs, the issuer among them. */
  readonly endpoints: VoxKeyEndpoints;
  /** The domain to give `VoxKeyModule` (`http://127.0.0.1:<port>`). */
  readonly domain: string;
  /** Requests served by the JWKS endpoint so far. */
  jwksRequests = 0;
  /** Every request the realm received, as `METHOD /path`, oldest first. */
  readonly requests: string[] = [];
  /** While false, the JWKS endpoint answers 503. */
  jwksAvailable = true;

  private keys: RealmSigningKey[];
  private retired: RealmSigningKey[] = [];

  private constructor(
    private readonly server: Server,
    readonly realm: string,
    readonly audience: string | string[],
    private readonly algorithm: TestRealmAlgorithm,
    kid: string | undefined,
  ) {
    const { port } = server.address() as AddressInfo;
    this.domain = `http://127.0.0.1:${port}`;
    this.endpoints = getVoxKeyEndpoints(this.domain, realm);
    this.keys = [generateKey(algorithm, kid)];
  }

  /** Starts a realm listening on 127.0.0.1 on a free port. */
  static async start(options: TestRealmOptions = {}): Promise<VoxKeyTestRealm> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const realm = new VoxKeyTestRealm(
      server,
      options.realm ?? randomUUID(),
      options.audience ?? 'https://api.example.test',
      options.algorithm ?? 'RS256',
      options.kid,
    );
    server.on('request', (request, response) => realm.handle(request, response));
    return realm;
  }

  /** The realm's issuer, the `iss` of its tokens. */
  get issuer(): string {
    return this.endpoints.issuer;
  }

  /** The `kid` tokens are signed with by default. */
  get currentKid(): string {
    return this.keys[this.keys.length - 1].kid;
  }

  /** The published key set. */
  get jwks(): { keys: JsonWebKey[] } {
    return { keys: this.keys.map((key) => key.publicJwk) };
  }

  /** Options for `VoxKeyModule.forRoot()` pointing at this realm. */
  moduleOptions(overrides: Partial<VoxKeyModuleOptions> = {}): VoxKeyModuleOptions {
    return { domain: this.domain, realm: this.realm, audience: this.audience, ...overrides };
  }

  /** Mints a signed access token (`typ: at+jwt`), valid for this realm unless told otherwise. */
  mint(options: MintOptions = {}): string {
    const key = this.signingKey(options.kid);
    const now = Math.floor(Date.now() / 1000);
    const scope = Array.isArray(options.scope) ? options.scope.join(' ') : options.scope;
    const payload = withoutUndefined({
      iss: this.issuer,
      sub: options.subject ?? 'test-user',
      aud: this.audience,
      iat: now,
      exp: now + (options.expiresIn ?? 300),
      jti: randomUUID(),
      client_id: 'test-client',
      scope,
      ...(options.dpopKey || options.certificate ? { cnf: confirmation(options) } : {}),
      ...options.claims,
    });
    const header = withoutUndefined({
      alg: key.alg,
      typ: 'at+jwt',
      kid: key.kid,
      ...options.header,
    });
    return signJws(header, payload, key.privateKey, key.alg);
  }

  /**
   * Starts signing with a new key. The previous keys stay published unless `keepPrevious` is
   * false, in which case they are withdrawn from the JWKS (tokens can still be minted with them
   * by `kid`, to test that withdrawn keys stop working). Returns the new `kid`.
   */
  rotateKeys({ keepPrevious = true }: { keepPrevious?: boolean } = {}): string {
    const next = generateKey(this.algorithm);
    if (!keepPrevious) {
      this.retired.push(...this.keys);
      this.keys = [];
    }
    this.keys.push(next);
    return next.kid;
  }

  /** Stops the server. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private signingKey(kid: string | undefined): RealmSigningKey {
    if (kid === undefined) return this.keys[this.keys.length - 1];
    const key = [...this.keys, ...this.retired].find((candidate) => candidate.kid === kid);
    if (!key) throw new Error(`VoxKeyTestRealm: no key with kid ${kid}`);
    return key;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    let path: string;
    try {
      path = new URL(request.url ?? '/', this.domain).pathname;
    } catch {
      response.writeHead(400).end();
      return;
    }
    this.requests.push(`${request.method} ${path}`);
    if (request.method === 'GET' && path === new URL(this.endpoints.jwksUri).pathname) {
      this.jwksRequests++;
      if (!this.jwksAvailable) {
        response
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"error":"unavailable"}');
        return;
      }
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(this.jwks));
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
  }
}
