/**
 * An introspection answer, with the RFC's member names. When `validation` is `'introspection'`
 * it is also `req.user`.
 * @see RFC 7662 §2.2
 */
export interface IntrospectionResult {
  /** Whether the token is active for this API (also false for another audience or issuer). */
  active: boolean;
  scope?: string;
  client_id?: string;
  username?: string;
  token_type?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
  sub?: string;
  aud?: string | string[];
  iss?: string;
  jti?: string;
  /** The id of the configured realm that answered (set by the library on active answers). */
  realm?: string;
  [member: string]: unknown;
}

/** Options of `IntrospectionService.introspect()` and `RevocationService.revoke()`. */
export interface TokenRequestOptions {
  /** Hint about the token's type. @see RFC 7662 §2.1, RFC 7009 §2.1 */
  tokenTypeHint?: 'access_token' | 'refresh_token' | (string & {});
  /**
   * The id of the realm to ask, with `realms`. Without it a JWT goes to the realm its `iss`
   * names; another token needs it (or the service's `forRealm(id)`).
   */
  realm?: string;
}
