import type { VoxKeyStore } from '../store/voxkey-store.interface.js';
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

/** How the introspection service caches answers. */
export interface VoxKeyIntrospectionOptions {
  /**
   * Longest time an active answer is reused, in milliseconds; never past the token's `exp`.
   * `0` disables the cache (concurrent calls for one token still share a request).
   * @default 30000
   */
  cacheTtlMs?: number;
  /**
   * How long an inactive answer is reused, in milliseconds (at most 10 s).
   * @default 3000
   */
  inactiveCacheTtlMs?: number;
  /**
   * Most answers kept; the least recently used go first.
   * @default 10000
   */
  cacheMaxEntries?: number;
}

/**
 * Where HTTP requests carry the access token. A request sending it both in the header and in the
 * cookie is a 400 `invalid_request`, even when the two are equal.
 *
 * @example
 * tokenLocation: {
 *   cookie: '__Host-access_token',
 *   csrf: { origins: ['https://app.example.com'] },
 * }
 */
export interface VoxKeyTokenLocationOptions {
  /**
   * Read `Authorization: Bearer <token>`. `false` ignores the header (then only the cookie is
   * read, and `cookie` is required).
   * @default true
   * @see RFC 6750 §2.1
   */
  header?: boolean;
  /**
   * Name of a cookie holding the raw access token, read from the request's `Cookie` header (no
   * cookie parser needed); requires `csrf`. The value is taken as it is (a b64token, not
   * percent-decoded); a name sent twice is a 400.
   * @default undefined (no cookie is read)
   */
  cookie?: string;
  /**
   * How a request carrying the cookie token proves it is not cross-site (browsers attach cookies
   * to requests any site makes), checked for every method but GET, HEAD and OPTIONS before the
   * token is read; a failure is a 403. Required with `cookie`, no default:
   * `{ origins }`: the `Origin` header must be one of these origins exactly
   * (`https://app.example.com`), or the browser must send `Sec-Fetch-Site: same-origin`;
   * `{ header }`: the request must carry this header (for example `x-requested-with`), which a
   * page of another origin can only send after a CORS preflight.
   * @default undefined (required with `cookie`)
   * @see RFC 6750 §5.3
   */
  csrf?: { origins: string[] } | { header: string };
}

/** Defaults of the machine-to-machine token service (client credentials grant). */
export interface VoxKeyM2MOptions {
  /** Client id for M2M tokens. @default the module's `clientId` */
  clientId?: string;
  /** Client secret for M2M tokens. Never logged. @default the module's `clientSecret` */
  clientSecret?: string;
  /** Scopes requested when a call names none, a list or a space-delimited string. */
  scope?: string | string[];
  /**
   * Resource indicator requested when a call names none: an absolute URI without fragment.
   * @see RFC 8707 §2
   */
  resource?: string;
  /**
   * A cached token is never handed out with less life left than this, in milliseconds (and never
   * with less than half its lifetime); it is refreshed in the background before that.
   * @default 60000
   */
  refreshMarginMs?: number;
  /**
   * Retries after 429, 5xx and network errors, with capped exponential backoff and jitter.
   * @default 3
   */
  maxRetries?: number;
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
  /**
   * The realm UUID: tokens must be issued by `<domain>/oauth2/<realm>`. Required unless `realms`
   * lists the realms (the two are exclusive).
   */
  realm?: string;
  /**
   * The API's resource indicator(s): a token's `aud` must contain one of them. With `realms`, the
   * audience of each realm that names none.
   * @see RFC 8707 (resource indicators), RFC 9068 §4
   */
  audience?: string | string[];
  /**
   * Several realms whose tokens this API accepts, each with its own id, audience, key set and
   * client credentials (never shared with another realm). A token's unverified `iss` picks its
   * realm by exact string before anything else happens; an issuer not listed is a 401.
   * Exclusive with `realm`.
   */
  realms?: VoxKeyRealmOptions[];
  /**
   * Realms added at run time (from a database, say): called with the UUID of a token's `iss` when
   * that `iss` is exactly `<domain>/oauth2/<lower-case UUID>` and not a configured realm, it
   * returns the realm's options (its `realm` must be that UUID) or undefined for none. Calls are
   * single-flight per realm, answers cached (`realmCache`), and calls for realms never seen before
   * rate-limited, so a flood of random UUIDs costs a bounded number of calls and no key fetch.
   * Needs `realms`. A throw is a 503.
   */
  realmsProvider?: (
    realmUuid: string,
  ) => VoxKeyRealmOptions | undefined | Promise<VoxKeyRealmOptions | undefined>;
  /** How `realmsProvider`'s answers are kept, and how often it may be asked about new realms. */
  realmCache?: VoxKeyRealmCacheOptions;
  /**
   * Which realms a request may be authenticated by, from the request itself (host, path,
   * headers, route parameters): a token of another realm gets a 401 even when it is otherwise
   * valid. `@Realm()` and `@RealmFromParam()` on a route take precedence.
   * @default every configured realm
   */
  tenancy?: VoxKeyTenancyOptions;
  /**
   * Where the realm's endpoints (JWKS, token, introspection, revocation) are reached when that is
   * not the public `domain`, e.g. `http://voxkey.identity.svc.cluster.local:8080` inside a
   * cluster. `iss` is still compared with the public `<domain>/oauth2/<realm>`.
   */
  backchannelUrl?: string;
  /** The key set's URL, overriding the one under `domain` (or `backchannelUrl`). */
  jwksUri?: string;
  /**
   * Allow a plain `http://` `backchannelUrl` or `jwksUri` to a host that is not loopback (whoever
   * can alter the key set can mint tokens: only on a network you trust).
   * @default false
   */
  allowInsecureBackchannel?: boolean;
  /**
   * Extra `iss` values accepted for this realm, compared exactly (for a migration between
   * issuer URLs); the realm's own keys still verify them.
   */
  issuerAliases?: string[];
  /**
   * Signature algorithms accepted. RSA (RS*), RSA-PSS (PS*), ECDSA (ES*) and EdDSA (Ed25519 or
   * Ed448 keys) may be enabled; HMAC (HS*) and `none` are always refused.
   * @default ['RS256']
   * @see RFC 8725 §3.1, RFC 8037 §3.1
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
  /**
   * Where HTTP requests (routes, GraphQL over HTTP) carry the access token: the `Authorization`
   * header, a cookie, or both (one per request). Sockets and microservices keep their own places.
   * @default { header: true } (the Authorization header only)
   * @see RFC 6750 §2
   */
  tokenLocation?: VoxKeyTokenLocationOptions;
  /** Fetching and caching of the realm's signing keys. */
  jwks?: VoxKeyJwksOptions;
  /**
   * Fetch the configured realms' key sets while the application starts, so the first requests
   * do not each wait for them: `'background'` starts the fetches without waiting (and retries
   * one that failed, backing off up to 30 s, until it succeeds); `'block'` makes `app.init()`
   * (and `listen()`) wait for them and fail, naming the realm, if one cannot be loaded within
   * `prewarmTimeoutMs`; `'off'` fetches on the first request. Realms of `realmsProvider` are
   * never fetched ahead; with `validation: 'introspection'` no key set is needed.
   * @default 'background'
   */
  prewarm?: 'background' | 'block' | 'off';
  /**
   * How long `prewarm: 'block'` waits for the key sets, in milliseconds (a failed fetch is
   * retried within it).
   * @default 5000
   */
  prewarmTimeoutMs?: number;
  /**
   * Cache of verified tokens, keyed by the full token: a token seen again skips the signature
   * check (its `exp`, `nbf` and the deny list are still checked). `maxEntries: 0` turns it off.
   * @default { maxEntries: 10000 }
   */
  tokenCache?: { maxEntries?: number };
  /** Client id of this API at the realm, used by the introspection, revocation and M2M services. */
  clientId?: string;
  /** Client secret matching `clientId`. Never logged. */
  clientSecret?: string;
  /**
   * How the guard authenticates requests: `'jwt'` validates JWTs locally; `'introspection'`
   * authenticates (opaque) tokens by introspection alone and needs `clientId`/`clientSecret`.
   * @default 'jwt'
   * @see RFC 7662
   */
  validation?: 'jwt' | 'introspection';
  /**
   * How the client authenticates to the realm's endpoints.
   * @default 'client_secret_basic'
   * @see RFC 6749 §2.3.1
   */
  clientAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  /**
   * Timeout of one request to the token, introspection or revocation endpoint, in milliseconds.
   * @default 5000
   */
  requestTimeoutMs?: number;
  /** Caching of introspection answers. */
  introspection?: VoxKeyIntrospectionOptions;
  /** Defaults of `M2MTokenService`. */
  m2m?: VoxKeyM2MOptions;
  /**
   * Where M2M tokens, introspection answers and revocations are kept. Give a shared store
   * (`new RedisStore(...)`) when several instances serve the API.
   * @default an in-process store (bounded, least recently used entries go first)
   */
  store?: VoxKeyStore;
  /**
   * 32-byte key (a Buffer, or its base64 / hex text) to encrypt cached M2M access tokens in the
   * store with AES-256-GCM. Recommended whenever `store` is shared.
   */
  encryptionKey?: string | Buffer;
  /**
   * The execution contexts besides HTTP that the guards authenticate: each `true` (the
   * defaults), `false` (every handler of that kind is denied unless `@Public()`) or settings.
   */
  contexts?: VoxKeyContextsOptions;
  /**
   * The start-up route audit: every route, resolver, gateway and microservice handler with its
   * decision, a one-line summary, and the probable mistakes (a handler no guard reaches, one that
   * takes any token among scoped ones, ...). `'warn'` logs each finding with its fix, `'strict'`
   * stops the application on any, `'off'` says nothing; a string is `{ mode }`. Conflicting
   * decorators and `@Scopes()` on a GraphQL field resolver that guards never reach always stop it.
   * @default { mode: 'warn', requireScopes: false }
   */
  audit?: 'warn' | 'strict' | 'off' | VoxKeyAuditOptions;
  /**
   * The canonical URI of this API as a protected resource, such as `https://api.example.com/mcp`:
   * the `aud` every route requires, the RFC 9728 metadata document served at
   * `/.well-known/oauth-protected-resource/mcp`, and its URL in every challenge. Shorthand for
   * `resources: [{ resource }]`; exclusive with `resources`. https (plain http only for loopback),
   * absolute, canonical, without a fragment.
   * @default none (no metadata document, no resource check)
   * @see RFC 9728 §1.2, §3, §5.1; RFC 8707 §2
   */
  resource?: string;
  /**
   * Several protected resources of this API, each with its metadata document; `@Resource()`
   * chooses a route's (with one, it applies to every route). Exclusive with `resource`.
   * @see RFC 9728 §2
   */
  resources?: VoxKeyResourceOptions[];
  /** How the metadata documents are served. */
  resourceMetadata?: VoxKeyResourceMetadataOptions;
  /**
   * DPoP, sender-constrained tokens bound to a key the client holds: `Authorization: DPoP
   * <token>` with a `DPoP` proof header. A DPoP-bound token (`cnf.jkt`) sent as `Bearer` is
   * refused in every mode.
   * @see RFC 9449
   */
  dpop?: VoxKeyDpopOptions;
  /**
   * Certificate-bound tokens (`cnf.x5t#S256`): where the client certificate of a request is
   * read. Without it, a certificate-bound token is refused.
   * @see RFC 8705 §3
   */
  mtls?: VoxKeyMtlsOptions;
}

/** How DPoP proofs are checked. @see RFC 9449 §4.3 */
export interface VoxKeyDpopOptions {
  /**
   * `'allowed'`: `DPoP` and `Bearer` tokens are both accepted (each as what it is);
   * `'required'`: only DPoP-bound tokens with a proof; `'off'`: the `DPoP` scheme is not
   * read (bound tokens are still refused).
   * @default 'allowed' when a public URL is known (`publicUrl` or the resources' origin), else 'off'
   */
  mode?: 'off' | 'allowed' | 'required';
  /**
   * This API's public URL as clients address it (an origin, with the path prefix a proxy strips,
   * if any): the `htu` a proof must name is this URL followed by the path the server received.
   * Never taken from `Host` or `X-Forwarded-*`.
   * @default the origin of the configured resources, when they share one
   */
  publicUrl?: string;
  /** The proof algorithms accepted (asymmetric only), as `algs` advertises them. @default every supported algorithm */
  algorithms?: VoxKeyAlgorithm[];
  /** Oldest proof accepted, by its `iat`, in seconds. @default 300 */
  maxAgeSec?: number;
  /** Clock skew allowed for a proof's `iat` in the future, in seconds. @default 30 */
  futureLeewaySec?: number;
  /**
   * Server nonces (RFC 9449 §8, §9): every proof must carry a nonce this fleet issued, in the
   * last `lifetimeSec`. Stateless: HMAC-protected timestamps under `secrets` (the first signs,
   * all verify, so a new secret can be rolled out before the old one is dropped), shared by
   * every instance.
   * @default off
   */
  nonce?: { secrets: (string | Buffer)[]; lifetimeSec?: number };
  /**
   * The replay cache: each proof is accepted once across the fleet, through the module's
   * `store`. When a shared store does not answer, `'local'` keeps an in-process cache from then
   * on (a proof used before the outage, or on another instance, could then be replayed once) and
   * `'reject'` refuses DPoP requests with a 503 until it answers.
   * @default { onStoreDown: 'local' }
   */
  replay?: { onStoreDown?: 'local' | 'reject' };
}

/** Where the client certificate of a request comes from. @see RFC 8705 §3 */
export interface VoxKeyMtlsOptions {
  /**
   * `'socket'`: the TLS connection (Node terminates TLS, with `requestCert`);
   * `'x-forwarded-client-cert'`: Envoy's XFCC header (`Cert="<url-encoded PEM>"`);
   * `'ssl-client-cert'`: nginx's `$ssl_client_escaped_cert` in an `ssl-client-cert` header;
   * or a function returning the PEM or DER. A header can be trusted only when the application
   * is reachable solely through a proxy that overwrites it.
   */
  certificate:
    | 'socket'
    | 'x-forwarded-client-cert'
    | 'ssl-client-cert'
    | ((request: unknown) => string | Buffer | undefined);
  /** `'required'` also refuses tokens that are not certificate-bound. @default 'allowed' */
  mode?: 'allowed' | 'required';
}

/**
 * One protected resource of `resources`: its canonical URI and what its RFC 9728 metadata
 * document says besides `resource`, `authorization_servers` and `bearer_methods_supported`.
 * @see RFC 9728 §2
 */
export interface VoxKeyResourceOptions {
  /** The canonical URI, as for `resource`. */
  resource: string;
  /**
   * A name `@Resource()` may use instead of the URI, for a URI known only at run time (its host
   * or port comes from the environment).
   */
  id?: string;
  /**
   * `scopes_supported`. @default the scopes that `@Scopes()` and `@AnyScope()` declare on the
   * resource's routes, found at start-up
   */
  scopesSupported?: string[];
  /** `resource_name`: a human-readable name. */
  resourceName?: string;
  /** `resource_documentation`: a URL of the developer documentation. */
  resourceDocumentation?: string;
  /** `resource_policy_uri`: a URL of the data policy. */
  resourcePolicyUri?: string;
  /** `resource_tos_uri`: a URL of the terms of service. */
  resourceTosUri?: string;
  /**
   * Further metadata fields, written as RFC 9728 spells them; the fields above and `resource`,
   * `authorization_servers`, `bearer_methods_supported` cannot be overridden here.
   */
  extra?: Record<string, unknown>;
}

/** `resourceMetadata`: how the RFC 9728 documents are served. */
export interface VoxKeyResourceMetadataOptions {
  /** `Cache-Control: public, max-age=<maxAgeSec>` on the documents. @default 3600 */
  maxAgeSec?: number;
}

/** One realm of `realms`. */
export interface VoxKeyRealmOptions {
  /** The name the application uses for this realm (`VoxKeyClaims.realm`, `@Realm('acme')`). */
  id: string;
  /** The realm UUID: its tokens are issued by `<domain>/oauth2/<realm>`. */
  realm: string;
  /** This API's resource indicator(s) in this realm. @default the module's `audience` */
  audience?: string | string[];
  /** The realm's domain, when it is not the module's `domain` (a custom domain). */
  domain?: string;
  /** Where this realm's endpoints are reached, when not at its domain. */
  backchannelUrl?: string;
  /** This realm's key set URL, overriding the one under its domain (or `backchannelUrl`). */
  jwksUri?: string;
  /** Extra `iss` values accepted for this realm, compared exactly. */
  issuerAliases?: string[];
  /** This API's client id in this realm (introspection, revocation, M2M). */
  clientId?: string;
  /** The secret of `clientId`, sent to this realm's endpoints only. Never logged. */
  clientSecret?: string;
  /** M2M defaults in this realm (`clientId`, `clientSecret`, `scope`, `resource`). */
  m2m?: Pick<VoxKeyM2MOptions, 'clientId' | 'clientSecret' | 'scope' | 'resource'>;
}

/** How `realmsProvider`'s answers are kept. */
export interface VoxKeyRealmCacheOptions {
  /** Most realms from the provider kept at once; the least recently used go first. @default 100 */
  maxEntries?: number;
  /** A provided realm unused for this long is dropped, in milliseconds. @default 3600000 */
  idleTtlMs?: number;
  /** How long "no such realm" is remembered, in milliseconds. @default 60000 */
  negativeTtlMs?: number;
  /** Most "no such realm" answers kept. @default 1000 */
  negativeMaxEntries?: number;
  /**
   * Calls per second for realms not seen before (a burst of as many is allowed); past it, such a
   * token is refused without a call.
   * @default 20
   */
  providerRatePerSec?: number;
}

/** What `tenancy.resolve` sees of a request. */
export interface VoxKeyTenancyRequest {
  /** The execution context: `'http'`, `'graphql'`, `'ws'` or `'rpc'`. */
  context: string;
  /** The `Host` header (lower case, port included), when the context has one. */
  host: string | undefined;
  /** The request's path without its query, when the context has one. */
  path: string | undefined;
  /** The request's (or handshake's) headers; empty where the context has none. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The route parameters, as the router matched them (before any pipe). */
  params: Readonly<Record<string, string>>;
}

/** How requests are bound to realms. */
export interface VoxKeyTenancyOptions {
  /**
   * The ids of the realms acceptable for this request. Nothing (undefined, an empty list)
   * accepts nothing; a throw is a 503.
   */
  resolve?: (
    request: VoxKeyTenancyRequest,
  ) => string | readonly string[] | undefined | Promise<string | readonly string[] | undefined>;
}

/** GraphQL operations and subscriptions. */
export interface VoxKeyGraphQLOptions {
  /**
   * A `connectionParams` key holding the raw token of a subscription (for example `authToken`),
   * besides `authorization` and `headers.authorization`, which are always read.
   */
  connectionParamsKey?: string;
  /**
   * Let the connection helpers (`VoxKeyGraphQL.graphqlWsOnConnect`, `mercuriusOnConnect`) accept
   * a connection without any token, for `@Public()` subscriptions; each subscribe is still checked
   * by the guards, so a protected one is refused. A token that is present must be valid.
   * @default false
   */
  allowAnonymousConnections?: boolean;
  /**
   * Close a subscription's socket (graphql-ws code 4403) when its token expires, so the client
   * reconnects with a fresh one.
   * @default true
   */
  closeOnExpiry?: boolean;
}

/** WebSocket gateways (socket.io and `ws`). */
export interface VoxKeyWsOptions {
  /**
   * Also read the token from the `access_token` query parameter of the handshake. URLs end up in
   * logs; prefer `auth.token` (socket.io) or the `Authorization` header.
   * @default false
   * @see RFC 6750 §2.3
   */
  allowQueryToken?: boolean;
  /**
   * Close the socket when its token expires (socket.io: an `exception` event, then a
   * disconnect; `ws`: close code 4401).
   * @default true
   */
  closeOnExpiry?: boolean;
}

/** Microservice handlers. */
export interface VoxKeyRpcOptions {
  /**
   * Reads the access token of a message where the transport has no header of its own (TCP and
   * Redis on NestJS 11, MQTT 3.1.1, ...): the token itself, `Bearer <token>`, or undefined. A
   * token in the transport's header still counts; two different ones are `invalid_request`.
   */
  getToken?: (data: unknown, context: unknown) => string | undefined;
}

/** Which contexts besides HTTP are authenticated, and how. */
export interface VoxKeyContextsOptions {
  /** @default true */
  graphql?: boolean | VoxKeyGraphQLOptions;
  /** @default true */
  ws?: boolean | VoxKeyWsOptions;
  /** @default true */
  rpc?: boolean | VoxKeyRpcOptions;
}

/** The start-up route audit (`audit`). */
export interface VoxKeyAuditOptions {
  /**
   * `'warn'`: log the summary and each finding; `'strict'`: the findings stop the application;
   * `'off'`: say nothing (`VoxKeyRouteAudit` still lists the routes).
   * @default 'warn'
   */
  mode?: 'warn' | 'strict' | 'off';
  /** Every handler that accepts any valid token, without scopes, is a finding. @default false */
  requireScopes?: boolean;
  /**
   * Handlers whose findings are left out, as `'Class.method'` or `'Class'` (all its handlers):
   * a handler that accepts any token on purpose, a library's controller you cannot decorate.
   * They are still listed. @default []
   */
  ignore?: string[];
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
