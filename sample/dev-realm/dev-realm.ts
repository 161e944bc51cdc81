import { generateKeyPairSync, randomBytes, randomUUID, verify, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
// Before oidc-provider loads: it prints its development notices at import time.
import './quiet-oidc-provider';
import Provider, { errors } from 'oidc-provider';

/** A client of the development realm. */
export interface DevClient {
  clientId: string;
  clientSecret: string;
  /** Scopes the client may ask for, space-delimited. */
  scope: string;
  authMethod?: 'client_secret_basic' | 'client_secret_post';
  /**
   * Its access tokens are bound to the TLS client certificate it presents (`cnf["x5t#S256"]`), so
   * it gets tokens only over the mTLS listener. Needs `mtls`. @see RFC 8705 §3
   */
  certificateBoundAccessTokens?: boolean;
}

/** DPoP-bound access tokens (oidc-provider's `features.dPoP`). @see RFC 9449 */
export interface DevRealmDpopOptions {
  /**
   * JWS algorithms accepted for proofs: any of RS256/384/512, PS256/384/512, ES256/384/512,
   * Ed25519 and EdDSA (RSA keys of at least 2048 bits). @default ['ES256', 'Ed25519', 'EdDSA']
   */
  algorithms?: string[];
  /**
   * Requires a server nonce in every proof: a proof without one gets 400 `use_dpop_nonce` and a
   * `DPoP-Nonce` header. Without it, proofs carrying a nonce are refused. @default false
   * @see RFC 9449 §8
   */
  nonce?: boolean;
}

/**
 * A second listener, HTTPS on 127.0.0.1, that asks every client for a certificate and accepts
 * any (a certificate-bound token needs no chain to a trusted CA), so that oidc-provider reads the
 * certificate from a real TLS socket. The issuer, JWKS and every other endpoint stay on plain
 * HTTP, so that nothing else has to trust this listener's certificate. @see RFC 8705 §5
 */
export interface DevRealmMtlsOptions {
  /** The listener's certificate (for 127.0.0.1) and private key, PEM. */
  cert: string;
  key: string;
  /** CA certificates, PEM, named in the certificate request. */
  ca?: string;
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
}

/** The realm's endpoints, by the names used in hooks and counts. */
export type DevEndpoint = 'token' | 'introspect' | 'revoke' | 'jwks';

/** Looks at (or answers) a request to an endpoint before the realm does; true when it answered. */
export type DevEndpointHook = (
  endpoint: DevEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
) => boolean;

export interface DevRealmOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Realm UUID. @default a random UUID */
  realm?: string;
  /** Every scope the realm knows. */
  scopes: string[];
  clients: DevClient[];
  /** Resource indicators the realm issues tokens for, and their format; the first is the default. */
  resources: Record<string, 'jwt' | 'opaque'>;
  /** The API's client, allowed to introspect and revoke JWT access tokens. */
  introspector: { clientId: string; clientSecret: string };
  /** Access token lifetime in seconds, read at each issue. @default 300 */
  accessTokenTtl?: () => number;
  onEndpoint?: DevEndpointHook;
  /**
   * Issues DPoP-bound access tokens to clients that send a proof (`cnf.jkt`, `token_type: DPoP`).
   * @default false (the `DPoP` header is ignored)
   */
  dpop?: boolean | DevRealmDpopOptions;
  /**
   * Issues certificate-bound access tokens (`cnf["x5t#S256"]`) to the clients registered with
   * `certificateBoundAccessTokens`, over an mTLS listener of its own. @default none
   */
  mtls?: DevRealmMtlsOptions;
}

/** The endpoints of the mTLS listener, as the discovery document lists them. @see RFC 8705 §5 */
export interface DevMtlsEndpointAliases {
  token_endpoint: string;
  introspection_endpoint: string;
  revocation_endpoint: string;
}

const ENDPOINTS: Record<string, DevEndpoint> = {
  '/token': 'token',
  '/introspect': 'introspect',
  '/revoke': 'revoke',
  '/oidc/jwks': 'jwks',
};

/**
 * A development VoxKey realm: panva's oidc-provider (a certified OpenID Connect server) mounted
 * at `/oauth2/<realm>` on 127.0.0.1 with VoxKey's paths (`/oidc/jwks`, `/token`, `/introspect`,
 * `/revoke`), the client credentials grant and RFC 8707 resource indicators. On request it also
 * issues sender-constrained tokens: DPoP-bound (`dpop`) and certificate-bound (`mtls`).
 *
 * oidc-provider itself refuses to introspect or revoke JWT access tokens; VoxKey does both. The
 * realm therefore answers /introspect and /revoke for JWTs itself (`jwtIntrospection`): it
 * verifies the JWT with the realm's key and keeps the revoked `jti`s. Development and tests only.
 */
export class DevRealm {
  readonly realm: string;
  private provider!: Provider;
  private readonly revokedJtis = new Set<string>();
  private readonly signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

  private constructor(
    private readonly server: Server,
    /** The mTLS listener, with `mtls`. */
    private readonly mtlsServer: HttpsServer | undefined,
    private readonly options: DevRealmOptions,
  ) {
    this.realm = options.realm ?? randomUUID();
  }

  /**
   * Starts the realm; rejects with the listen error (e.g. EADDRINUSE) when a port is taken, or
   * with oidc-provider's configuration error, leaving no listener open.
   */
  static async start(options: DevRealmOptions): Promise<DevRealm> {
    const { mtls } = options;
    const server = await listen(createServer(), options.port);
    const mtlsServer = mtls
      ? await listen(
          createHttpsServer({
            cert: mtls.cert,
            key: mtls.key,
            ca: mtls.ca,
            requestCert: true,
            rejectUnauthorized: false,
          }),
          mtls.port,
        ).catch(async (error: unknown) => {
          await closeServer(server);
          throw error;
        })
      : undefined;
    const realm = new DevRealm(server, mtlsServer, options);
    try {
      realm.provider = realm.createProvider();
    } catch (error) {
      // A configuration oidc-provider refuses: no listener is left open.
      await realm.close();
      throw error;
    }
    for (const listener of [server, mtlsServer]) {
      listener?.on('request', (req, res) => {
        realm.handle(req, res).catch(() => {
          if (!res.headersSent) res.writeHead(500).end();
        });
      });
    }
    return realm;
  }

  get domain(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get issuer(): string {
    return `${this.domain}/oauth2/${this.realm}`;
  }

  /** The endpoints on the mTLS listener; undefined without `mtls`. @see RFC 8705 §5 */
  get mtlsEndpointAliases(): DevMtlsEndpointAliases | undefined {
    if (!this.mtlsServer) return undefined;
    const base = `https://127.0.0.1:${(this.mtlsServer.address() as AddressInfo).port}/oauth2/${this.realm}`;
    return {
      token_endpoint: `${base}/token`,
      introspection_endpoint: `${base}/introspect`,
      revocation_endpoint: `${base}/revoke`,
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.server, this.mtlsServer].map((s) => s && closeServer(s)));
  }

  private createProvider(): Provider {
    const { scopes, clients, resources } = this.options;
    const [defaultResource] = Object.keys(resources);
    const ttl = this.options.accessTokenTtl ?? (() => 300);
    const dpop = this.options.dpop === true ? {} : this.options.dpop || undefined;
    const jwk = {
      ...this.signingKey.privateKey.export({ format: 'jwk' }),
      kid: randomUUID(),
      alg: 'RS256',
      use: 'sig',
    };
    return new Provider(this.issuer, {
      clients: clients.map((c) => ({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: c.authMethod ?? 'client_secret_basic',
        scope: c.scope,
        ...(c.certificateBoundAccessTokens
          ? { tls_client_certificate_bound_access_tokens: true }
          : {}),
      })),
      jwks: { keys: [jwk] },
      scopes,
      routes: {
        jwks: '/oidc/jwks',
        token: '/token',
        introspection: '/introspect',
        revocation: '/revoke',
      },
      ttl: { ClientCredentials: () => ttl() },
      ...(dpop?.algorithms ? { enabledJWA: { dPoPSigningAlgValues: dpop.algorithms } } : {}),
      ...(this.mtlsServer
        ? { discovery: { mtls_endpoint_aliases: this.mtlsEndpointAliases } }
        : {}),
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true, allowedPolicy: async () => true },
        revocation: { enabled: true, allowedPolicy: async () => true },
        // oidc-provider turns DPoP on by default; here it is opt-in, like mTLS.
        dPoP: dpop
          ? {
              enabled: true,
              ...(dpop.nonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}),
            }
          : { enabled: false },
        mTLS: this.mtlsServer
          ? { enabled: true, certificateBoundAccessTokens: true, getCertificate: peerCertificate }
          : { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: async () => defaultResource,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx: unknown, resource: string) => {
            const format = resources[resource];
            if (!format) throw new errors.InvalidTarget();
            return {
              scope: scopes.join(' '),
              audience: resource,
              accessTokenTTL: ttl(),
              accessTokenFormat: format,
              jwt: { sign: { alg: 'RS256' } },
            };
          },
        },
      },
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const prefix = `/oauth2/${this.realm}`;
    const url = req.url ?? '/';
    if (!url.startsWith(`${prefix}/`)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    const endpoint = ENDPOINTS[url.slice(prefix.length).split('?')[0]];
    let body = '';
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      body = Buffer.concat(chunks).toString('utf8');
      // oidc-provider reads an already consumed body from req.body.
      (req as IncomingMessage & { body?: string }).body = body;
    }
    if (endpoint) {
      if (this.options.onEndpoint?.(endpoint, req, res, body)) return;
      if (
        (endpoint === 'introspect' || endpoint === 'revoke') &&
        this.jwtIntrospection(endpoint, req, res, body)
      ) {
        return;
      }
    }
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
    req.url = url.slice(prefix.length) || '/';
    this.provider.callback()(req, res);
  }

  /** Introspection and revocation of JWT access tokens, which oidc-provider does not do. */
  private jwtIntrospection(
    endpoint: 'introspect' | 'revoke',
    req: IncomingMessage,
    res: ServerResponse,
    body: string,
  ): boolean {
    const token = new URLSearchParams(body).get('token') ?? '';
    const parts = token.split('.');
    if (parts.length !== 3) return false;
    const { clientId, clientSecret } = this.options.introspector;
    const form = (v: string) => new URLSearchParams([['', v]]).toString().slice(1);
    const expected = `Basic ${Buffer.from(`${form(clientId)}:${form(clientSecret)}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
      return true;
    }
    let claims: Record<string, unknown> = {};
    let valid = false;
    try {
      valid = verify(
        'sha256',
        Buffer.from(`${parts[0]}.${parts[1]}`),
        this.signingKey.publicKey,
        Buffer.from(parts[2], 'base64url'),
      );
      if (valid) claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      valid = false;
    }
    if (endpoint === 'revoke') {
      if (valid && typeof claims.jti === 'string') this.revokedJtis.add(claims.jti);
      res.writeHead(200).end();
      return true;
    }
    const active =
      valid &&
      !this.revokedJtis.has(claims.jti as string) &&
      (claims.exp as number) * 1000 > Date.now();
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(
        JSON.stringify(
          active ? { active: true, token_type: tokenTypeOf(claims), ...claims } : { active: false },
        ),
      );
    return true;
  }
}

/** RFC 9449 §6.2: a DPoP-bound token introspects as `token_type: "DPoP"`, with its `cnf`. */
function tokenTypeOf(claims: Record<string, unknown>): 'DPoP' | 'Bearer' {
  const cnf = claims.cnf as { jkt?: unknown } | undefined;
  return typeof cnf?.jkt === 'string' ? 'DPoP' : 'Bearer';
}

/** oidc-provider's `features.mTLS.getCertificate`: the certificate of the TLS socket, if any. */
function peerCertificate(ctx: { req: IncomingMessage }): X509Certificate | undefined {
  const { socket } = ctx.req;
  if (!(socket instanceof TLSSocket)) return undefined;
  // An empty object when the client sent no certificate.
  const { raw } = socket.getPeerCertificate();
  return raw ? new X509Certificate(raw) : undefined;
}

function listen<S extends Server | HttpsServer>(server: S, port = 0): Promise<S> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeServer(server: Server | HttpsServer): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
