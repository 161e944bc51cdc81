import { generateKeyPairSync, randomUUID, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
// Must run before oidc-provider loads: it prints its notices at import time.
import './quiet-oidc-provider';
import Provider, { errors } from 'oidc-provider';

/** The API whose tokens are JWTs (validated locally by the library). */
export const JWT_RESOURCE = 'https://api.example.test/v1';
/** An API whose tokens are opaque (introspection only). */
export const OPAQUE_RESOURCE = 'https://opaque.example.test/v1';
export const SCOPES = ['read:posts', 'write:posts', 'users:read', 'users:write', 'admin'];

export const API_CLIENT = { clientId: 'api-client', clientSecret: 'api-secret' };
export const M2M_CLIENT = { clientId: 'm2m-client', clientSecret: 'm2m-secret' };
/** A client whose id and secret need form-encoding before Basic authentication (VSCHAR only, RFC 6749 Appendix A). */
export const ODD_CLIENT = { clientId: 'odd:client%+ &=', clientSecret: 'p@ss:w%rd+ /=?' };
/** Authenticates with client_secret_post. */
export const POST_CLIENT = { clientId: 'post-client', clientSecret: 'post-secret' };

type Endpoint = 'token' | 'introspect' | 'revoke' | 'jwks';
/** Returns true when it answered the request itself (fault injection). */
export type Interceptor = (req: IncomingMessage, res: ServerResponse, body: string) => boolean;

/**
 * A real authorization server (panva's oidc-provider) mounted as a VoxKey realm on 127.0.0.1:
 * `/oauth2/<realm>` with `/oidc/jwks`, `/token`, `/introspect` and `/revoke`, client credentials
 * and resource indicators, issuing JWT access tokens for JWT_RESOURCE and opaque ones for
 * OPAQUE_RESOURCE. It counts requests per endpoint and lets tests inject faults.
 *
 * oidc-provider refuses to introspect or revoke JWT access tokens (unsupported_token_type), so
 * the `jwtIntrospectionShim` below answers /introspect and /revoke for JWTs itself, test-only:
 * it verifies the JWT with the realm's key and keeps a set of revoked `jti`s.
 */
export class OidcRealm {
  readonly realm = randomUUID();
  readonly counts: Record<Endpoint, number> = { token: 0, introspect: 0, revoke: 0, jwks: 0 };
  /** Fault injection per endpoint, consulted before the provider answers. */
  readonly intercept: Partial<Record<Endpoint, Interceptor>> = {};
  /** Lifetime of issued access tokens, in seconds. */
  accessTokenTtl = 300;
  /** Bodies of token requests, for asserting what was sent. */
  readonly tokenRequests: { authorization: string | undefined; body: string }[] = [];

  private provider!: Provider;
  private readonly revokedJtis = new Set<string>();
  private readonly signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private readonly kid = randomUUID();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OidcRealm> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const realm = new OidcRealm(server);
    realm.provider = realm.createProvider();
    server.on('request', (req, res) => {
      realm.handle(req, res).catch((error: unknown) => {
        console.error('OidcRealm fixture failed', error);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    return realm;
  }

  get domain(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get issuer(): string {
    return `${this.domain}/oauth2/${this.realm}`;
  }

  /** Options for the module, with this API's client credentials. */
  moduleOptions(extra: Record<string, unknown> = {}) {
    return {
      domain: this.domain,
      realm: this.realm,
      audience: JWT_RESOURCE,
      clientId: API_CLIENT.clientId,
      clientSecret: API_CLIENT.clientSecret,
      jwks: { cooldownMs: 0 },
      ...extra,
    };
  }

  /** Gets a token straight from the token endpoint, as any client would. */
  async issueToken({
    scope = 'read:posts',
    resource = JWT_RESOURCE,
    client = M2M_CLIENT,
  } = {}): Promise<string> {
    const response = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }),
    });
    const body = (await response.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`token request failed: ${JSON.stringify(body)}`);
    this.counts.token--; // not counted: the test itself asked
    return body.access_token;
  }

  /** Back to normal between tests: no fault injection, default token lifetime. */
  reset(): void {
    this.accessTokenTtl = 300;
    for (const key of Object.keys(this.intercept)) delete this.intercept[key as Endpoint];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private createProvider(): Provider {
    const jwk = {
      ...this.signingKey.privateKey.export({ format: 'jwk' }),
      kid: this.kid,
      alg: 'RS256',
      use: 'sig',
    };
    const client = (
      c: { clientId: string; clientSecret: string },
      auth = 'client_secret_basic',
    ) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: auth,
      scope: SCOPES.join(' '),
    });
    const provider = new Provider(this.issuer, {
      clients: [
        client(API_CLIENT),
        { ...client(M2M_CLIENT), scope: 'read:posts write:posts users:read users:write' },
        client(ODD_CLIENT),
        client(POST_CLIENT, 'client_secret_post'),
      ],
      jwks: { keys: [jwk] },
      scopes: SCOPES,
      routes: {
        jwks: '/oidc/jwks',
        token: '/token',
        introspection: '/introspect',
        revocation: '/revoke',
      },
      ttl: { ClientCredentials: () => this.accessTokenTtl },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true, allowedPolicy: async () => true },
        revocation: { enabled: true, allowedPolicy: async () => true },
        resourceIndicators: {
          enabled: true,
          defaultResource: async () => JWT_RESOURCE,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx: unknown, resource: string) => {
            if (resource !== JWT_RESOURCE && resource !== OPAQUE_RESOURCE)
              throw new errors.InvalidTarget();
            return {
              scope: SCOPES.join(' '),
              audience: resource,
              accessTokenTTL: this.accessTokenTtl,
              accessTokenFormat: resource === JWT_RESOURCE ? 'jwt' : 'opaque',
              jwt: { sign: { alg: 'RS256' } },
            };
          },
        },
      },
    } as never);
    return provider;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const prefix = `/oauth2/${this.realm}`;
    const url = req.url ?? '/';
    if (!url.startsWith(prefix)) {
      res.writeHead(404).end();
      return;
    }
    const path = url.slice(prefix.length).split('?')[0];
    const endpoint = (
      {
        '/token': 'token',
        '/introspect': 'introspect',
        '/revoke': 'revoke',
        '/oidc/jwks': 'jwks',
      } as const
    )[path as '/token'] as Endpoint | undefined;
    let body = '';
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      body = Buffer.concat(chunks).toString('utf8');
      // oidc-provider reads an already consumed body from req.body.
      (req as IncomingMessage & { body?: string }).body = body;
    }
    if (endpoint) {
      this.counts[endpoint]++;
      if (endpoint === 'token')
        this.tokenRequests.push({ authorization: req.headers.authorization, body });
      if (this.intercept[endpoint]?.(req, res, body)) return;
      if (
        (endpoint === 'introspect' || endpoint === 'revoke') &&
        this.jwtIntrospectionShim(endpoint, req, res, body)
      ) {
        return;
      }
    }
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
    req.url = url.slice(prefix.length) || '/';
    this.provider.callback()(req, res);
  }

  /** Test-only stand-in for introspecting and revoking JWT access tokens (see the class doc). */
  private jwtIntrospectionShim(
    endpoint: 'introspect' | 'revoke',
    req: IncomingMessage,
    res: ServerResponse,
    body: string,
  ): boolean {
    const token = new URLSearchParams(body).get('token') ?? '';
    const parts = token.split('.');
    if (parts.length !== 3) return false;
    const expected = `Basic ${Buffer.from(`${API_CLIENT.clientId}:${API_CLIENT.clientSecret}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
      return true;
    }
    const valid = verify(
      'sha256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      this.signingKey.publicKey,
      Buffer.from(parts[2], 'base64url'),
    );
    const claims = valid ? JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) : {};
    if (endpoint === 'revoke') {
      if (valid) this.revokedJtis.add(claims.jti);
      res.writeHead(200).end();
      return true;
    }
    const active = valid && !this.revokedJtis.has(claims.jti) && claims.exp * 1000 > Date.now();
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(
        JSON.stringify(
          active ? { active: true, token_type: 'Bearer', ...claims } : { active: false },
        ),
      );
    return true;
  }
}
