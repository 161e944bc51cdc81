import type { IncomingMessage, ServerResponse } from 'node:http';
import { DevRealm, type DevEndpoint } from '../../sample/dev-realm/dev-realm';

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

/** Client credentials at the realm. */
export interface OidcClient {
  clientId: string;
  clientSecret: string;
}

export interface OidcRealmOptions {
  /**
   * Appended to the ids and secrets of the API and M2M clients, so that realms started side by
   * side hold different credentials. @default '' (API_CLIENT and M2M_CLIENT as they are)
   */
  clientSuffix?: string;
}

/** Returns true when it answered the request itself (fault injection). */
export type Interceptor = (req: IncomingMessage, res: ServerResponse, body: string) => boolean;

/**
 * The development realm (a real oidc-provider, see sample/dev-realm) set up for the tests: JWT
 * access tokens for JWT_RESOURCE, opaque ones for OPAQUE_RESOURCE, request counts per endpoint
 * and fault injection.
 */
export class OidcRealm {
  readonly counts: Record<DevEndpoint, number> = { token: 0, introspect: 0, revoke: 0, jwks: 0 };
  /** Fault injection per endpoint, consulted before the realm answers. */
  readonly intercept: Partial<Record<DevEndpoint, Interceptor>> = {};
  /** Lifetime of issued access tokens, in seconds. */
  accessTokenTtl = 300;
  /** Token requests as sent, for asserting what the library sent. */
  readonly tokenRequests: { authorization: string | undefined; body: string }[] = [];

  private dev!: DevRealm;

  private constructor(
    /** This API's client at the realm (introspection, revocation). */
    readonly apiClient: OidcClient,
    /** The client that gets M2M tokens. */
    readonly m2mClient: OidcClient,
  ) {}

  static async start({ clientSuffix = '' }: OidcRealmOptions = {}): Promise<OidcRealm> {
    const suffixed = ({ clientId, clientSecret }: OidcClient): OidcClient => ({
      clientId: `${clientId}${clientSuffix}`,
      clientSecret: `${clientSecret}${clientSuffix}`,
    });
    const realm = new OidcRealm(suffixed(API_CLIENT), suffixed(M2M_CLIENT));
    realm.dev = await DevRealm.start({
      scopes: SCOPES,
      clients: [
        { ...realm.apiClient, scope: SCOPES.join(' ') },
        { ...realm.m2mClient, scope: 'read:posts write:posts users:read users:write' },
        { ...ODD_CLIENT, scope: SCOPES.join(' ') },
        { ...POST_CLIENT, scope: SCOPES.join(' '), authMethod: 'client_secret_post' },
      ],
      resources: { [JWT_RESOURCE]: 'jwt', [OPAQUE_RESOURCE]: 'opaque' },
      introspector: realm.apiClient,
      accessTokenTtl: () => realm.accessTokenTtl,
      onEndpoint: (endpoint, req, res, body) => {
        realm.counts[endpoint]++;
        if (endpoint === 'token')
          realm.tokenRequests.push({ authorization: req.headers.authorization, body });
        return realm.intercept[endpoint]?.(req, res, body) ?? false;
      },
    });
    return realm;
  }

  get domain(): string {
    return this.dev.domain;
  }

  get realm(): string {
    return this.dev.realm;
  }

  get issuer(): string {
    return this.dev.issuer;
  }

  /** Options for the module, with this API's client credentials. */
  moduleOptions(extra: Record<string, unknown> = {}) {
    return {
      domain: this.domain,
      realm: this.realm,
      audience: JWT_RESOURCE,
      clientId: this.apiClient.clientId,
      clientSecret: this.apiClient.clientSecret,
      jwks: { cooldownMs: 0 },
      ...extra,
    };
  }

  /** Gets a token straight from the token endpoint, as any client would (not counted). */
  async issueToken({
    scope = 'read:posts',
    resource = JWT_RESOURCE,
    client = this.m2mClient,
  }: { scope?: string; resource?: string; client?: OidcClient } = {}): Promise<string> {
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
    this.counts.token--;
    this.tokenRequests.pop();
    return body.access_token;
  }

  /** Revokes a token at the realm directly, as another party would (not through the API; not counted). */
  async revoke(token: string): Promise<void> {
    const response = await fetch(`${this.issuer}/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${this.apiClient.clientId}:${this.apiClient.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }),
    });
    if (response.status !== 200) throw new Error(`revocation failed: ${response.status}`);
    this.counts.revoke--;
  }

  /** Back to normal between tests: no fault injection, default token lifetime. */
  reset(): void {
    this.accessTokenTtl = 300;
    for (const key of Object.keys(this.intercept)) delete this.intercept[key as DevEndpoint];
  }

  close(): Promise<void> {
    return this.dev.close();
  }
}
