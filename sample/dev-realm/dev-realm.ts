import { generateKeyPairSync, randomUUID, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
 * `/revoke`), the client credentials grant and RFC 8707 resource indicators.
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
    private readonly options: DevRealmOptions,
  ) {
    this.realm = options.realm ?? randomUUID();
  }

  /** Starts the realm; rejects with the listen error (e.g. EADDRINUSE) when the port is taken. */
  static async start(options: DevRealmOptions): Promise<DevRealm> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const realm = new DevRealm(server, options);
    realm.provider = realm.createProvider();
    server.on('request', (req, res) => {
      realm.handle(req, res).catch(() => {
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

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private createProvider(): Provider {
    const { scopes, clients, resources } = this.options;
    const [defaultResource] = Object.keys(resources);
    const ttl = this.options.accessTokenTtl ?? (() => 300);
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
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true, allowedPolicy: async () => true },
        revocation: { enabled: true, allowedPolicy: async () => true },
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
          active ? { active: true, token_type: 'Bearer', ...claims } : { active: false },
        ),
      );
    return true;
  }
}
