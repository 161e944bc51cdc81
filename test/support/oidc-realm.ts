import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  DevRealm,
  type DevEndpoint,
  type DevMtlsEndpointAliases,
  type DevRealmDpopOptions,
} from '../../sample/dev-realm/dev-realm';
import { createDpopKey, requestDpopToken, type DpopKey } from './dpop-client';
import { MTLS, mtlsRequest, type CertificateAndKey } from './mtls';

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
/** Gets certificate-bound tokens (RFC 8705), over the mTLS listener only; with `mtls`. */
export const MTLS_CLIENT = { clientId: 'mtls-client', clientSecret: 'mtls-secret' };

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
  /**
   * DPoP-bound tokens (`cnf.jkt`, `token_type: DPoP`) for any client that sends a proof: see
   * `issueDpopToken`. @default false
   */
  dpop?: boolean | DevRealmDpopOptions;
  /**
   * An mTLS listener with the test server certificate (test/fixtures/mtls), where MTLS_CLIENT
   * gets certificate-bound tokens (`cnf["x5t#S256"]`): see `issueCertBoundToken`. @default false
   */
  mtls?: boolean;
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

  static async start({ clientSuffix = '', dpop, mtls }: OidcRealmOptions = {}): Promise<OidcRealm> {
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
        ...(mtls
          ? [{ ...MTLS_CLIENT, scope: SCOPES.join(' '), certificateBoundAccessTokens: true }]
          : []),
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
      dpop,
      mtls: mtls ? { cert: MTLS.server.cert, key: MTLS.server.key, ca: MTLS.ca } : undefined,
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

  /** The endpoints of the mTLS listener (https, the test CA); undefined without `mtls`. */
  get mtlsEndpointAliases(): DevMtlsEndpointAliases | undefined {
    return this.dev.mtlsEndpointAliases;
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
        authorization: basicAuthorization(client),
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }),
    });
    const body = (await response.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`token request failed: ${JSON.stringify(body)}`);
    this.counts.token--;
    this.tokenRequests.pop();
    return body.access_token;
  }

  /**
   * Gets a DPoP-bound token as an independent client would (oauth4webapi, see dpop-client.ts),
   * bound to `key` (a new ES256 key by default); not counted. Needs `dpop`.
   */
  async issueDpopToken({
    scope = 'read:posts',
    resource = JWT_RESOURCE,
    client = this.m2mClient,
    key,
  }: { scope?: string; resource?: string; client?: OidcClient; key?: DpopKey } = {}): Promise<{
    token: string;
    key: DpopKey;
  }> {
    const dpopKey = key ?? (await createDpopKey());
    const response = await requestDpopToken(this.issuer, client, dpopKey, { scope, resource });
    this.counts.token -= response.attempts;
    this.tokenRequests.splice(-response.attempts);
    if (response.tokenType !== 'DPoP') {
      throw new Error(`expected a DPoP-bound token, got ${response.tokenType}: start with dpop`);
    }
    return { token: response.accessToken, key: dpopKey };
  }

  /**
   * Gets a token bound to `certificate` (MTLS.clientA by default) from the mTLS listener, as
   * MTLS_CLIENT presenting that certificate; not counted. Needs `mtls`.
   */
  async issueCertBoundToken({
    scope = 'read:posts',
    resource = JWT_RESOURCE,
    certificate = MTLS.clientA,
  }: { scope?: string; resource?: string; certificate?: CertificateAndKey } = {}): Promise<string> {
    const endpoint = this.mtlsEndpointAliases?.token_endpoint;
    if (!endpoint) throw new Error('issueCertBoundToken: start the realm with mtls');
    const response = await mtlsRequest(endpoint, {
      client: certificate,
      method: 'POST',
      headers: { authorization: basicAuthorization(MTLS_CLIENT) },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }),
    });
    const body = JSON.parse(response.body) as { access_token?: string };
    if (!body.access_token) throw new Error(`token request failed: ${response.body}`);
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
        authorization: basicAuthorization(this.apiClient),
      },
      body: new URLSearchParams({ token }),
    });
    if (response.status !== 200) throw new Error(`revocation failed: ${response.status}`);
    this.counts.revoke--;
  }

  /** Introspects a token at the realm directly, as the API's client (not counted). */
  async introspect(token: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.issuer}/introspect`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuthorization(this.apiClient),
      },
      body: new URLSearchParams({ token }),
    });
    if (response.status !== 200) throw new Error(`introspection failed: ${response.status}`);
    this.counts.introspect--;
    return (await response.json()) as Record<string, unknown>;
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

/** `Authorization: Basic` with the id and secret as they are. */
export function basicAuthorization({ clientId, clientSecret }: OidcClient): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
}
