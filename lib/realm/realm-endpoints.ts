/** URLs of a VoxKey realm. */
export interface VoxKeyEndpoints {
  /** The realm URL, which is also the `iss` of its tokens. */
  issuer: string;
  /** The realm's key set. */
  jwksUri: string;
  /** Token endpoint (client credentials grant). @see RFC 6749 §4.4 */
  tokenEndpoint: string;
  /** Token introspection endpoint. @see RFC 7662 */
  introspectionEndpoint: string;
  /** Token revocation endpoint. @see RFC 7009 */
  revocationEndpoint: string;
}

/** Where a realm's endpoints are reached when that is not its public domain. */
export interface VoxKeyBackchannel {
  /** The origin (or base URL) the token, introspection, revocation and JWKS URLs are built on. */
  backchannelUrl?: string;
  /** The key set's URL, overriding the one built on the domain or `backchannelUrl`. */
  jwksUri?: string;
}

/**
 * Computes a realm's URLs from its domain origin and realm id: the issuer is always the public
 * `<origin>/oauth2/<realm>`; the endpoints the API calls are built on `backchannelUrl` when one is
 * given, and `jwksUri` replaces the key set's URL alone. Pure: no validation, no I/O.
 *
 * @example
 * getVoxKeyEndpoints('https://your-domain.com', '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a').jwksUri;
 * // 'https://your-domain.com/oauth2/6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a/oidc/jwks'
 *
 * @example
 * getVoxKeyEndpoints('https://id.example.com', realm, {
 *   backchannelUrl: 'http://voxkey.identity.svc.cluster.local:8080',
 * }).tokenEndpoint;
 * // 'http://voxkey.identity.svc.cluster.local:8080/oauth2/<realm>/token'
 */
export function getVoxKeyEndpoints(
  origin: string,
  realm: string,
  backchannel: VoxKeyBackchannel = {},
): VoxKeyEndpoints {
  const issuer = `${origin.replace(/\/+$/, '')}/oauth2/${realm}`;
  const base =
    backchannel.backchannelUrl === undefined
      ? issuer
      : `${backchannel.backchannelUrl.replace(/\/+$/, '')}/oauth2/${realm}`;
  return {
    issuer,
    jwksUri: backchannel.jwksUri ?? `${base}/oidc/jwks`,
    tokenEndpoint: `${base}/token`,
    introspectionEndpoint: `${base}/introspect`,
    revocationEndpoint: `${base}/revoke`,
  };
}

/**
 * Whether a resource indicator is an absolute URI without a fragment, as RFC 8707 §2 requires.
 */
export function isValidResourceIndicator(value: unknown): value is string {
  if (typeof value !== 'string' || value.includes('#')) return false;
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}
