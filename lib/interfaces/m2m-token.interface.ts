/** What to ask the token endpoint for; every field falls back to the module's `m2m` options. */
export interface M2MTokenRequest {
  /** Scopes, a list or a space-delimited string. */
  scope?: string | string[];
  /** Resource indicator: an absolute URI without fragment. @see RFC 8707 §2 */
  resource?: string;
  /** Ignore the cached token and fetch a new one (e.g. after the downstream API answered 401). */
  forceRefresh?: boolean;
  /** The id of the realm to get the token from, with `realms` (or use `forRealm(id)`). */
  realm?: string;
}

/** An access token obtained with the client credentials grant. */
export interface M2MToken {
  /** The bearer credential. Never log it. */
  accessToken: string;
  /** `Bearer`. */
  tokenType: string;
  /** When the token expires, milliseconds since the epoch. */
  expiresAt: number;
  /** Scopes granted, as the server reported them (or as requested, when it did not say). */
  scope: string | undefined;
}
