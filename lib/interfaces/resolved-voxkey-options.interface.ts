import type { VoxKeyStore } from '../store/voxkey-store.interface.js';
import type { VoxKeyEndpoints } from '../realm/realm-endpoints.js';
import type { ResolvedRealmsProvider } from '../realm/realm-options.js';
import type {
  VoxKeyAlgorithm,
  VoxKeyMtlsOptions,
  VoxKeyRpcOptions,
  VoxKeyTenancyOptions,
} from './voxkey-module-options.interface.js';

/** One realm the API accepts tokens from, validated; frozen. */
export interface ResolvedRealm {
  /** The application's name for it (`'default'` with the single-realm options). */
  readonly id: string;
  /** The realm UUID. */
  readonly uuid: string;
  /**
   * Its public URLs' issuer, and where its other endpoints are reached (the back channel, when
   * one is configured).
   */
  readonly endpoints: VoxKeyEndpoints;
  /** Every `iss` accepted for it: the issuer, then its `issuerAliases`. */
  readonly issuers: readonly string[];
  readonly audiences: readonly string[];
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
  readonly m2m: {
    readonly clientId: string | undefined;
    readonly clientSecret: string | undefined;
    readonly scope: readonly string[];
    readonly resource: string | undefined;
  };
}

/** Options after validation, with every default filled in and the realm endpoints derived. */
export interface ResolvedVoxKeyOptions {
  /** The realms, the single-realm options' one (id `'default'`) or those of `realms`. */
  readonly realms: readonly ResolvedRealm[];
  /** Whether `realms` listed them: services then need to be told which realm to use. */
  readonly multiRealm: boolean;
  readonly tenancy: { readonly resolve: VoxKeyTenancyOptions['resolve'] };
  /** `realmsProvider`, checked; undefined without one. */
  readonly realmsProvider: ResolvedRealmsProvider | undefined;
  readonly realmCache: {
    readonly maxEntries: number;
    readonly idleTtlMs: number;
    readonly negativeTtlMs: number;
    readonly negativeMaxEntries: number;
    readonly providerRatePerSec: number;
  };
  /** Where HTTP requests carry the token: the header unless `false`, and the cookie if named. */
  readonly tokenLocation: {
    readonly header: boolean;
    readonly cookie:
      | {
          readonly name: string;
          /** Allowed `Origin` values (serialized origins), or the lower-case header to require. */
          readonly csrf: { readonly origins: readonly string[] } | { readonly header: string };
        }
      | undefined;
  };
  readonly algorithms: readonly VoxKeyAlgorithm[];
  readonly clockTolerance: number;
  readonly maxTokenAge: number | undefined;
  readonly requireTokenType: boolean;
  readonly jwks: {
    readonly cacheMaxAgeMs: number;
    readonly cooldownMs: number;
    readonly timeoutMs: number;
  };
  readonly prewarm: 'background' | 'block' | 'off';
  readonly prewarmTimeoutMs: number;
  readonly tokenCache: { readonly maxEntries: number };
  readonly validation: 'jwt' | 'introspection';
  readonly clientAuthMethod: 'client_secret_basic' | 'client_secret_post';
  readonly requestTimeoutMs: number;
  readonly introspection: {
    readonly cacheTtlMs: number;
    readonly inactiveCacheTtlMs: number;
    readonly cacheMaxEntries: number;
  };
  readonly m2m: {
    readonly refreshMarginMs: number;
    readonly maxRetries: number;
  };
  readonly store: VoxKeyStore | undefined;
  readonly encryptionKey: Buffer | undefined;
  /** The contexts besides HTTP; `false` denies that kind of handler. */
  readonly contexts: {
    readonly graphql:
      | false
      | {
          readonly connectionParamsKey: string | undefined;
          readonly allowAnonymousConnections: boolean;
          readonly closeOnExpiry: boolean;
        };
    readonly ws: false | { readonly allowQueryToken: boolean; readonly closeOnExpiry: boolean };
    readonly rpc: false | { readonly getToken: VoxKeyRpcOptions['getToken'] };
  };
  /** The start-up route audit. */
  readonly audit: {
    readonly mode: 'warn' | 'strict' | 'off';
    readonly requireScopes: boolean;
    /** `'Class.method'` and `'Class'` names whose findings are left out. */
    readonly ignore: readonly string[];
  };
  /** Value of the `realm` parameter in `WWW-Authenticate` challenges. */
  readonly challengeRealm: string;
  /** `resource` or `resources`, validated; empty without. */
  readonly resources: readonly ResolvedResource[];
  readonly resourceMetadata: { readonly maxAgeSec: number };
  readonly dpop: ResolvedDpop;
  /** Undefined without `mtls`: certificate-bound tokens are refused. */
  readonly mtls: ResolvedMtls | undefined;
}

/** `dpop`, validated. */
export interface ResolvedDpop {
  readonly mode: 'off' | 'allowed' | 'required';
  /** The public URL `htu` is built from; set unless `mode` is `'off'`. */
  readonly publicUrl: string | undefined;
  readonly algorithms: readonly VoxKeyAlgorithm[];
  readonly maxAgeSec: number;
  readonly futureLeewaySec: number;
  /** Nonce secrets (the first signs) and lifetime; undefined without nonces. */
  readonly nonce: { readonly secrets: readonly Buffer[]; readonly lifetimeSec: number } | undefined;
  readonly replay: { readonly onStoreDown: 'local' | 'reject' };
}

/** `mtls`, validated. */
export interface ResolvedMtls {
  readonly certificate: VoxKeyMtlsOptions['certificate'];
  readonly mode: 'allowed' | 'required';
}

/** One protected resource, validated; frozen. @see RFC 9728 */
export interface ResolvedResource {
  /** The canonical URI, verbatim. */
  readonly resource: string;
  /** The name `@Resource()` may use for it, if given. */
  readonly id: string | undefined;
  /** Where its metadata document is served: `https://host/.well-known/oauth-protected-resource/path`. */
  readonly metadataUrl: string;
  /** The path of `metadataUrl`, at the origin root. */
  readonly metadataPath: string;
  /** The query of `metadataUrl` (with its `?`), or ''. */
  readonly metadataQuery: string;
  /** Configured `scopes_supported`; undefined to derive them from the routes. */
  readonly scopesSupported: readonly string[] | undefined;
  /** The document's other configured fields, spelt as RFC 9728 does. */
  readonly fields: Readonly<Record<string, unknown>>;
}
