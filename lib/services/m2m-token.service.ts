import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { MemoryCache } from '../cache/memory-cache.js';
import {
  VoxKeyConfigError,
  VoxKeyError,
  VoxKeyOAuthError,
  VoxKeyRequestError,
} from '../errors/voxkey.errors.js';
import { observeRealmRequest } from '../events/realm-request.util.js';
import { type ClientCredentials, RealmHttpClient } from '../realm/realm-http.client.js';
import type { M2MToken, M2MTokenRequest } from '../interfaces/m2m-token.interface.js';
import type {
  ResolvedRealm,
  ResolvedVoxKeyOptions,
} from '../interfaces/resolved-voxkey-options.interface.js';
import { RealmRegistry } from '../realm/realm.registry.js';
import { namespaceOf, SharedState } from '../store/shared-state.js';
import { SingleFlight } from '../utils/single-flight.util.js';
import { isValidResourceIndicator } from '../realm/realm-endpoints.js';
import { resolveScopes } from '../utils/scopes.util.js';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';

interface CachedToken {
  token: M2MToken;
  obtainedAt: number;
}

/** Backoff between retries: full jitter over an exponential base, capped. */
const BACKOFF_BASE_MS = 200;
const BACKOFF_CAP_MS = 5_000;
/** A `Retry-After` longer than this is not waited for: the error surfaces instead. */
const MAX_RETRY_AFTER_S = 30;
/** Longest one call spends on retries before the last error surfaces. */
const MAX_TOTAL_MS = 30_000;
const MAX_CACHED_TOKENS = 1_000;
/** Longest an instance waits for another one's token before asking the realm itself. */
const MAX_LOCK_WAIT_MS = 5_000;
const LOCK_POLL_MS = 50;

/** `M2MTokenService` bound to one realm (`forRealm(id)`). */
export interface RealmM2MTokens {
  getToken(request?: Omit<M2MTokenRequest, 'realm'>): Promise<string>;
  getAuthorizationHeader(request?: Omit<M2MTokenRequest, 'realm'>): Promise<string>;
  getTokenResponse(request?: Omit<M2MTokenRequest, 'realm'>): Promise<M2MToken>;
}

/**
 * Machine-to-machine access tokens from the realm's token endpoint (client credentials grant,
 * RFC 6749 §4.4, with RFC 8707 `resource`). Tokens are cached per client, scope set and
 * resource; concurrent callers share one request; a token is refreshed before it gets close to
 * expiry; 429, 5xx and network errors are retried with backoff.
 *
 * @example
 * constructor(private readonly m2m: M2MTokenService) {}
 * const res = await fetch(url, {
 *   headers: { authorization: await this.m2m.getAuthorizationHeader({ scope: 'users:read' }) },
 * });
 */
@Injectable()
export class M2MTokenService implements OnApplicationShutdown {
  private readonly logger = new Logger('VoxKeyM2M');
  private readonly cache = new MemoryCache<CachedToken>(MAX_CACHED_TOKENS);
  private readonly inFlight = new SingleFlight<M2MToken>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private closed = false;
  private readonly shutdown = new AbortController();

  /** Identifies this instance as a lock holder. */
  private readonly instanceId = randomUUID();

  constructor(
    @Inject(VOXKEY_RESOLVED_OPTIONS) private readonly options: ResolvedVoxKeyOptions,
    private readonly http: RealmHttpClient,
    private readonly state: SharedState,
    private readonly realms: RealmRegistry,
  ) {}

  /**
   * The service for one realm of `realms`: tokens from that realm's token endpoint, with that
   * realm's credentials and defaults.
   * @example
   * const authorization = await this.m2m.forRealm('acme').getAuthorizationHeader();
   */
  forRealm(realm: string): RealmM2MTokens {
    this.realms.require(realm, 'for M2M tokens');
    return {
      getToken: (request = {}) => this.getToken({ ...request, realm }),
      getAuthorizationHeader: (request = {}) => this.getAuthorizationHeader({ ...request, realm }),
      getTokenResponse: (request = {}) => this.getTokenResponse({ ...request, realm }),
    };
  }

  /** The access token string. */
  async getToken(request: M2MTokenRequest = {}): Promise<string> {
    return (await this.getTokenResponse(request)).accessToken;
  }

  /** The value for an `Authorization` header: `Bearer <token>`. */
  async getAuthorizationHeader(request: M2MTokenRequest = {}): Promise<string> {
    return `Bearer ${await this.getToken(request)}`;
  }

  /**
   * The token with its type, expiry and granted scope. A cached token is returned while it has
   * more than the refresh margin left; within twice the margin a refresh starts in the background.
   * @throws VoxKeyOAuthError when the realm refuses (`invalid_client`, `invalid_scope`,
   *   `invalid_target`: not retried) or keeps failing after the retries
   */
  async getTokenResponse(request: M2MTokenRequest = {}): Promise<M2MToken> {
    const realm = this.realms.require(request.realm, 'for M2M tokens').config;
    const credentials = this.credentials(realm);
    const scope = this.scopeOf(request, realm);
    const resource = this.resourceOf(request, realm);
    // The realm's id only with several realms: single-realm keys stay those earlier versions
    // share through the store during a rolling upgrade.
    const key = namespaceOf(
      ...(this.options.multiRealm ? [realm.id] : []),
      realm.endpoints.tokenEndpoint,
      credentials.clientId,
      scope.join(' '),
      resource ?? '',
    );

    const cached = request.forceRefresh ? undefined : this.cache.get(key);
    if (cached) {
      const margin = this.marginOf(cached);
      const remaining = cached.token.expiresAt - Date.now();
      if (remaining > margin) {
        if (remaining <= 2 * margin && !this.inFlight.has(key)) {
          // Refresh ahead: a token from the shared store only helps if it is out of this window.
          this.fetch(realm, key, credentials, scope, resource, 2 * margin, false).catch(
            (error: unknown) =>
              this.logger.warn(`Background token refresh failed: ${describe(error)}`),
          );
        }
        return cached.token;
      }
    }
    return this.fetch(
      realm,
      key,
      credentials,
      scope,
      resource,
      undefined,
      request.forceRefresh === true,
    );
  }

  /** Stops pending retries. */
  onApplicationShutdown(): void {
    this.closed = true;
    this.shutdown.abort();
    for (const [timer, wake] of this.timers) {
      clearTimeout(timer);
      wake();
    }
    this.timers.clear();
  }

  /** Never less than the margin, never more than half the token's lifetime. */
  private marginOf(entry: CachedToken): number {
    return Math.min(
      this.options.m2m.refreshMarginMs,
      (entry.token.expiresAt - entry.obtainedAt) / 2,
    );
  }

  /**
   * One token per key for every concurrent caller of this instance; with a shared store, one per
   * key for the whole fleet: a token another instance fetched is used, and when there is none the
   * instances take a lock so that one asks the token endpoint while the others wait for its
   * result (bounded), then ask themselves. A lock whose holder died expires by itself.
   */
  private fetch(
    realm: ResolvedRealm,
    key: string,
    credentials: ClientCredentials,
    scope: string[],
    resource: string | undefined,
    minRemainingMs: number | undefined,
    forceRefresh: boolean,
  ): Promise<M2MToken> {
    // A forced refresh never joins an ordinary fetch: that may return the very token to replace.
    const startedAt = Date.now();
    return this.inFlight.run(forceRefresh ? `${key}\nforce` : key, async () => {
      if (!this.state.shared) return this.fetchFromRealm(realm, key, credentials, scope, resource);
      const sharedKey = `m2m:${key}`;
      const lockKey = `m2m-lock:${key}`;
      const usable = async (): Promise<M2MToken | undefined> => {
        const entry = await this.readShared(sharedKey);
        if (!entry) return undefined;
        // A forced refresh accepts only a token obtained after it started (another instance's).
        if (forceRefresh && entry.obtainedAt <= startedAt) return undefined;
        const remaining = entry.token.expiresAt - Date.now();
        if (remaining <= (minRemainingMs ?? this.marginOf(entry))) return undefined;
        this.cache.set(key, entry, remaining);
        return entry.token;
      };
      const lockTtl =
        this.options.requestTimeoutMs * (this.options.m2m.maxRetries + 1) + MAX_TOTAL_MS;
      const waitUntil = Date.now() + Math.min(lockTtl, MAX_LOCK_WAIT_MS);
      for (;;) {
        const found = await usable();
        if (found) return found;
        if (await this.state.store.setIfAbsent(lockKey, this.instanceId, lockTtl)) {
          try {
            return await this.fetchFromRealm(realm, key, credentials, scope, resource, sharedKey);
          } finally {
            // Release only our own lock: it may have expired and been taken by another instance.
            await (this.state.store.deleteIfEquals
              ? this.state.store.deleteIfEquals(lockKey, this.instanceId)
              : this.state.store.delete(lockKey));
          }
        }
        if (Date.now() >= waitUntil || this.closed) {
          return this.fetchFromRealm(realm, key, credentials, scope, resource, sharedKey);
        }
        await this.sleep(LOCK_POLL_MS);
      }
    });
  }

  private async fetchFromRealm(
    realm: ResolvedRealm,
    key: string,
    credentials: ClientCredentials,
    scope: string[],
    resource: string | undefined,
    sharedKey?: string,
  ): Promise<M2MToken> {
    const obtainedAt = Date.now();
    const token = await this.requestWithRetries(realm, credentials, scope, resource);
    const entry = { token, obtainedAt };
    const ttl = token.expiresAt - Date.now();
    this.cache.set(key, entry, ttl);
    if (sharedKey && ttl > 0) {
      await this.state.store.set(
        sharedKey,
        this.state.cipher.seal(JSON.stringify(entry), sharedKey),
        ttl,
      );
    }
    return token;
  }

  private async readShared(sharedKey: string): Promise<CachedToken | undefined> {
    const sealed = await this.state.store.get(sharedKey);
    const json = sealed === undefined ? undefined : this.state.cipher.open(sealed, sharedKey);
    if (json === undefined) return undefined;
    try {
      const entry = JSON.parse(json) as CachedToken;
      return typeof entry?.token?.accessToken === 'string' &&
        typeof entry.token.expiresAt === 'number'
        ? entry
        : undefined;
    } catch {
      return undefined;
    }
  }

  private async requestWithRetries(
    realm: ResolvedRealm,
    credentials: ClientCredentials,
    scope: string[],
    resource: string | undefined,
  ): Promise<M2MToken> {
    const params: Record<string, string> = { grant_type: 'client_credentials' };
    if (scope.length > 0) params.scope = scope.join(' ');
    if (resource !== undefined) params.resource = resource;
    const deadline = Date.now() + MAX_TOTAL_MS;
    for (let attempt = 0; ; attempt++) {
      // The token's life counts from when it was asked for, not from when the answer arrived.
      const sentAt = Date.now();
      try {
        // One event per attempt: each is a request the realm answered (or did not).
        return await observeRealmRequest(realm.id, 'token', async () => {
          const response = await this.http.post(realm.endpoints, 'token', params, credentials, {
            signal: this.shutdown.signal,
          });
          return this.parse(response.body, response.status, scope, sentAt);
        });
      } catch (error) {
        const retryAfter = error instanceof VoxKeyOAuthError ? error.retryAfter : undefined;
        const backoff = Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
        const wait = Math.max(backoff, (retryAfter ?? 0) * 1000);
        const retry =
          error instanceof VoxKeyOAuthError &&
          error.retryable &&
          attempt < this.options.m2m.maxRetries &&
          !this.closed &&
          (retryAfter ?? 0) <= MAX_RETRY_AFTER_S &&
          Date.now() + wait < deadline;
        if (!retry) throw error;
        this.logger.debug(`Token request failed (${describe(error)}); retry ${attempt + 1}`);
        await this.sleep(wait);
        if (this.closed) throw error;
      }
    }
  }

  /** Checks the token response; nothing malformed is cached. @see RFC 6749 §5.1 */
  private parse(
    body: Record<string, unknown> | undefined,
    status: number,
    requested: string[],
    sentAt: number,
  ): M2MToken {
    const invalid = (): VoxKeyOAuthError =>
      new VoxKeyOAuthError('invalid_response', { endpoint: 'token', status, retryable: false });
    if (!body) throw invalid();
    const { access_token: accessToken, token_type: tokenType, expires_in, scope } = body;
    const expiresIn = typeof expires_in === 'string' ? Number(expires_in) : expires_in;
    if (
      typeof accessToken !== 'string' ||
      accessToken === '' ||
      typeof tokenType !== 'string' ||
      tokenType.toLowerCase() !== 'bearer' ||
      (scope !== undefined && typeof scope !== 'string') ||
      (expiresIn !== undefined && (typeof expiresIn !== 'number' || !(expiresIn > 0)))
    ) {
      throw invalid();
    }
    return {
      accessToken,
      tokenType: 'Bearer',
      // Without expires_in the token is used once and not cached.
      expiresAt: sentAt + (expiresIn === undefined ? 0 : expiresIn * 1000),
      scope: scope ?? (requested.length > 0 ? requested.join(' ') : undefined),
    };
  }

  private credentials(realm: ResolvedRealm): ClientCredentials {
    const { clientId, clientSecret } = realm.m2m;
    if (clientId === undefined || clientSecret === undefined) {
      throw new VoxKeyConfigError(
        this.options.multiRealm
          ? `'clientId' and 'clientSecret' (or 'm2m.clientId' and 'm2m.clientSecret') of realm '${realm.id}' are required for M2M tokens`
          : `'clientId' and 'clientSecret' (or 'm2m.clientId' and 'm2m.clientSecret') are required for M2M tokens`,
      );
    }
    return { clientId, clientSecret };
  }

  private scopeOf(request: M2MTokenRequest, realm: ResolvedRealm): string[] {
    if (request.scope === undefined) return [...realm.m2m.scope];
    try {
      return resolveScopes(request.scope, 'scope');
    } catch {
      throw new VoxKeyRequestError('invalid_scope', `'scope' must be scope tokens (RFC 6749 §3.3)`);
    }
  }

  private resourceOf(request: M2MTokenRequest, realm: ResolvedRealm): string | undefined {
    const resource = request.resource ?? realm.m2m.resource;
    if (resource !== undefined && !isValidResourceIndicator(resource)) {
      throw new VoxKeyRequestError(
        'invalid_resource',
        `'resource' must be an absolute URI without a fragment (RFC 8707 §2)`,
      );
    }
    return resource;
  }

  /** Waits `ms`; shutdown ends the wait early. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      this.timers.set(timer, resolve);
    });
  }
}

function describe(error: unknown): string {
  return error instanceof VoxKeyError
    ? error.message
    : error instanceof Error
      ? error.name
      : 'error';
}
