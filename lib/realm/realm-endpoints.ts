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

/**
 * Computes a realm's URLs from its domain origin and realm id. Pure: no validation, no I/O.
 *
 * @example
 * getVoxKeyEndpoints('https://your-domain.com', '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a').jwksUri;
 * // 'https://your-domain.com/oauth2/6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a/oidc/jwks'
 */
export function getVoxKeyEndpoints(origin: string, realm: string): VoxKeyEndpoints {
  const issuer = `${origin.replace(/\/+$/, '')}/oauth2/${realm}`;
  return {
    issuer,
    jwksUri: `${issuer}/oidc/jwks`,
    tokenEndpoint: `${issuer}/token`,
    introspectionEndpoint: `${issuer}/introspect`,
    revocationEndpoint: `${issuer}/revoke`,
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
