import { Inject, Injectable, Logger } from '@nestjs/common';
import { VoxKeyOAuthError } from '../errors/voxkey.errors.js';
import { observeRealmRequest } from '../events/realm-request.util.js';
import { RealmHttpClient } from '../realm/realm-http.client.js';
import type {
  IntrospectionResult,
  TokenRequestOptions,
} from '../interfaces/introspection-result.interface.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { namespaceOf, SharedState } from '../store/shared-state.js';
import { SingleFlight } from '../utils/single-flight.util.js';
import { hashToken } from '../token/token-hash.js';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';
import { apiCredentials } from '../realm/realm-credentials.js';
import { type Realm, RealmRegistry } from '../realm/realm.registry.js';
import { RevocationList } from './revocation-list.js';

const INACTIVE: IntrospectionResult = Object.freeze({ active: false });
const STRING_MEMBERS = ['scope', 'client_id', 'username', 'token_type', 'sub', 'iss', 'jti'];
const TIME_MEMBERS = ['exp', 'iat', 'nbf'];

/** `IntrospectionService` bound to one realm (`forRealm(id)`). */
export interface RealmIntrospection {
  introspect(
    token: string,
    options?: Omit<TokenRequestOptions, 'realm'>,
  ): Promise<IntrospectionResult>;
  isActive(token: string): Promise<boolean>;
  forget(token: string): Promise<void>;
}

/**
 * Asks the realm whether a token is active (RFC 7662), with a cache keyed by the token's
 * SHA-256: active answers live at most `introspection.cacheTtlMs` and never past `exp`, inactive
 * ones a few seconds, and concurrent calls for one token share one request.
 *
 * @example
 * constructor(private readonly introspection: IntrospectionService) {}
 * if (!(await this.introspection.isActive(token))) throw new UnauthorizedException();
 */
@Injectable()
export class IntrospectionService {
  private readonly logger = new Logger('VoxKeyIntrospection');
  private readonly inFlight = new SingleFlight<IntrospectionResult>();
  /** Answers depend on this API's audiences and realm: keys say whose they are. */
  private readonly namespaces = new Map<string, string>();

  constructor(
    @Inject(VOXKEY_RESOLVED_OPTIONS) private readonly options: ResolvedVoxKeyOptions,
    private readonly http: RealmHttpClient,
    private readonly revoked: RevocationList,
    private readonly state: SharedState,
    private readonly realms: RealmRegistry,
  ) {
    for (const realm of options.realms) {
      this.namespaces.set(realm.id, namespaceOf(realm.endpoints.issuer, ...realm.audiences));
    }
  }

  /**
   * The service for one realm of `realms`: every call asks that realm, with its own credentials.
   * @example
   * await this.introspection.forRealm('acme').isActive(token);
   */
  forRealm(realm: string): RealmIntrospection {
    this.realms.require(realm, 'to introspect');
    return {
      introspect: (token, options = {}) => this.introspect(token, { ...options, realm }),
      isActive: (token) => this.introspect(token, { realm }).then((answer) => answer.active),
      forget: (token) => this.forget(token, realm),
    };
  }

  /**
   * The realm's answer for `token`, as seen by this API: an answer for another audience or
   * another issuer, or one that is malformed or expired, is `{ active: false }`.
   * @throws VoxKeyOAuthError when the endpoint cannot be reached or refuses the request
   */
  async introspect(token: string, options: TokenRequestOptions = {}): Promise<IntrospectionResult> {
    const realm = this.realms.forToken(token, options.realm, 'to introspect');
    if (await this.revoked.isRevoked(token, realm.config.id)) return { ...INACTIVE };
    const key = this.cacheKey(token, realm);
    const cached = await this.readCached(key, realm);
    // Parsed afresh for each caller: `req.user` is never shared between requests.
    if (cached !== undefined) return { ...this.stillActive(cached) };
    const result = await this.inFlight.run(key, async () => {
      const params: Record<string, string> = { token };
      if (options.tokenTypeHint) params.token_type_hint = options.tokenTypeHint;
      const credentials = apiCredentials(
        realm.config,
        'to call the introspection endpoint',
        this.options.multiRealm,
      );
      const body = await observeRealmRequest(realm.config.id, 'introspection', async () => {
        const response = await this.http.post(
          realm.config.endpoints,
          'introspection',
          params,
          credentials,
        );
        if (!response.body) {
          throw new VoxKeyOAuthError('invalid_response', {
            endpoint: 'introspection',
            status: response.status,
            retryable: false,
          });
        }
        return response.body;
      });
      const answer = Object.freeze(this.interpret(body, realm));
      const ttl = this.lifetime(answer);
      if (ttl > 0) {
        await this.state.store.set(key, this.state.cipher.seal(JSON.stringify(answer), key), ttl);
      }
      return answer;
    });
    return { ...result };
  }

  /** Whether `token` is active for this API. */
  async isActive(
    token: string,
    options: Pick<TokenRequestOptions, 'realm'> = {},
  ): Promise<boolean> {
    return (await this.introspect(token, options)).active;
  }

  /** Drops the cached answer for `token` (done after it is revoked). */
  async forget(token: string, realm?: string): Promise<void> {
    await this.state.store.delete(
      this.cacheKey(token, this.realms.forToken(token, realm, 'to forget an answer')),
    );
  }

  /**
   * A cached answer, opened (sealed with `encryptionKey`, bound to its key) and checked again
   * like a fresh one: a forged or unreadable entry is a miss, never an active answer.
   */
  private async readCached(key: string, realm: Realm): Promise<IntrospectionResult | undefined> {
    const sealed = await this.state.store.get(key);
    const json = sealed === undefined ? undefined : this.state.cipher.open(sealed, key);
    if (json === undefined) return undefined;
    try {
      const value: unknown = JSON.parse(json);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      return this.interpret(value as Record<string, unknown>, realm);
    } catch {
      return undefined;
    }
  }

  /** The token's SHA-256, never the token, under the realm's namespace for this API. */
  private cacheKey(token: string, realm: Realm): string {
    const namespace =
      this.namespaces.get(realm.config.id) ??
      namespaceOf(realm.config.endpoints.issuer, ...realm.config.audiences);
    return `introspection:${namespace}:${hashToken(token)}`;
  }

  /** Checks `exp` again on every cache hit. */
  private stillActive(result: IntrospectionResult): IntrospectionResult {
    return result.active && typeof result.exp === 'number' && result.exp * 1000 <= Date.now()
      ? INACTIVE
      : result;
  }

  private lifetime(result: IntrospectionResult): number {
    if (!result.active) return this.options.introspection.inactiveCacheTtlMs;
    const ttl = this.options.introspection.cacheTtlMs;
    return typeof result.exp === 'number' ? Math.min(ttl, result.exp * 1000 - Date.now()) : ttl;
  }

  /**
   * Only `active: true` with well-typed members, this API's audience in the realm and the realm's
   * issuer counts; the answer says which realm gave it (`realm`, the configured id).
   */
  private interpret(body: Record<string, unknown>, realm: Realm): IntrospectionResult {
    if (body.active !== true) return INACTIVE;
    const reject = (why: string): IntrospectionResult => {
      this.logger.debug(`Introspection answer treated as inactive: ${why}`);
      return INACTIVE;
    };
    for (const name of STRING_MEMBERS) {
      if (body[name] !== undefined && typeof body[name] !== 'string') return reject(`${name} type`);
    }
    for (const name of TIME_MEMBERS) {
      if (body[name] !== undefined && !Number.isFinite(body[name])) return reject(`${name} type`);
    }
    if (typeof body.exp === 'number' && body.exp * 1000 <= Date.now()) return reject('expired');
    const aud = body.aud;
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!audiences.some((a) => realm.config.audiences.includes(a as string))) {
      return reject('audience is not this API');
    }
    if (body.iss !== undefined && !realm.config.issuers.includes(body.iss as string)) {
      return reject('issuer is another realm');
    }
    return { ...(body as IntrospectionResult), realm: realm.config.id };
  }
}
