import type { SUPPORTED_ALGORITHMS } from '../voxkey.constants.js';

/** A JWS algorithm the library can verify. */
export type VoxKeyAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** How the realm's key set (JWKS) is fetched and cached. */
export interface VoxKeyJwksOptions {
  /**
   * How long a fetched key set is used before it is fetched again, in milliseconds.
   * When the refetch fails, the keys already fetched keep working.
   * @default 600000 (10 minutes)
   */
  cacheMaxAgeMs?: number;
  /**
   * Least time between two fetches caused by a token whose `kid` is not in the cached set,
   * in milliseconds. Concurrent requests share one fetch.
   * @default 30000
   */
  cooldownMs?: number;
  /**
   * Time allowed for one JWKS request, body included, in milliseconds.
   * @default 5000
   */
  timeoutMs?: number;
}

/**
 * Options of `VoxKeyModule.forRoot()` and of the factory given to `forRootAsync()`.
 *
 * @example
 * VoxKeyModule.forRoot({
 *   domain: 'https://your-domain.com',
 *   realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
 *   audience: 'https://your-domain.com/api/v1',
 * });
 */
export interface VoxKeyModuleOptions {
  /**
   * Your VoxKey domain, such as `https://your-domain.com` (a bare host name means https).
   * Plain `http://` is accepted only for loopback hosts, for local development and tests.
   */
  domain: string;
  /** The realm UUID: tokens must be issued by `<domain>/oauth2/<realm>`. */
  realm: string;
  /**
   * The API's resource indicator(s): a token's `aud` must contain one of them.
   * @see RFC 8707 (resource indicators), RFC 9068 §4
   */
  audience: string | string[];
  /**
   * Signature algorithms accepted. RSA (RS*), RSA-PSS (PS*) and ECDSA (ES*) may be enabled;
   * HMAC (HS*) and `none` are always refused.
   * @default ['RS256']
   * @see RFC 8725 §3.1
   */
  algorithms?: VoxKeyAlgorithm[];
  /**
   * Leeway, in seconds, when checking `exp`, `nbf` and `iat` against this machine's clock.
   * @default 5
   */
  clockTolerance?: number;
  /**
   * When set, tokens whose `iat` is older than this many seconds are refused (`iat` becomes required).
   * @default undefined (no limit beyond `exp`)
   */
  maxTokenAge?: number;
  /**
   * Demand the JWT access token type in the header, `typ: at+jwt`.
   * Without it a `typ` is still checked when present (`at+jwt`, `application/at+jwt` or `JWT`).
   * @default false
   * @see RFC 9068 §2.1
   */
  requireTokenType?: boolean;
  /** Fetching and caching of the realm's signing keys. */
  jwks?: VoxKeyJwksOptions;
  /** Client id of this API at the realm, used by the introspection, revocation and M2M services. */
  clientId?: string;
  /** Client secret matching `clientId`. Never logged. */
  clientSecret?: string;
}

/** Options handled by the module itself rather than by the providers. */
export interface VoxKeyModuleExtras {
  /**
   * Register the module globally, so its services can be injected anywhere.
   * @default true
   */
  isGlobal?: boolean;
  /**
   * Register `VoxKeyAuthGuard` and `ScopesGuard` as global guards. With `false`,
   * apply them yourself: `@UseGuards(VoxKeyAuthGuard, ScopesGuard)`.
   * @default true
   */
  globalGuard?: boolean;
}

/**
 * A class given to `forRootAsync({ useClass })` or `useExisting` that builds the options.
 *
 * @example
 * @Injectable()
 * class VoxKeyConfig implements VoxKeyOptionsFactory {
 *   constructor(private readonly config: ConfigService) {}
 *   createVoxKeyOptions() {
 *     return { domain: this.config.getOrThrow('VOXKEY_DOMAIN'), realm: ..., audience: ... };
 *   }
 * }
 */
export interface VoxKeyOptionsFactory {
  createVoxKeyOptions(): VoxKeyModuleOptions | Promise<VoxKeyModuleOptions>;
}
