/**
 * Claims of a validated VoxKey access token, available as `req.user` and through `@VoxKeyUser()`.
 * @see RFC 9068 §2.2
 */
export interface VoxKeyClaims {
  /** Issuer: the realm URL, `<domain>/oauth2/<realm>`. */
  iss: string;
  /** Subject: the user, or the client for machine-to-machine tokens. */
  sub?: string;
  /** Audience: the resource indicator(s) the token was issued for. */
  aud: string | string[];
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Issue time, seconds since the epoch. */
  iat?: number;
  /** Not-before time, seconds since the epoch. */
  nbf?: number;
  /** Token id. */
  jti?: string;
  /** Client the token was issued to. */
  client_id?: string;
  /** Space-delimited scopes. */
  scope?: string;
  /**
   * The id of the configured realm that issued the token (`'default'` with the single-realm
   * options): set by the library, never taken from the token. `sub` is unique only within a realm.
   */
  realm?: string;
  /** Scopes as some issuers write them, a list or a space-delimited string. */
  scp?: string | string[];
  /** Any other claim the realm adds. */
  /** Set by the guard on a request authenticated with a DPoP proof: the proof's key. @see RFC 9449 */
  dpop?: { jkt: string; alg: string };
  [claim: string]: unknown;
}
