import { Inject, Injectable } from '@nestjs/common';
import { observeRealmRequest } from '../events/realm-request.util.js';
import { RealmHttpClient } from '../realm/realm-http.client.js';
import type { TokenRequestOptions } from '../interfaces/introspection-result.interface.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { unverifiedExpiry } from '../token/jws-header.js';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';
import { IntrospectionService } from './introspection.service.js';
import { apiCredentials } from '../realm/realm-credentials.js';
import { RealmRegistry } from '../realm/realm.registry.js';
import { RevocationList } from './revocation-list.js';

/** Longest a JWT stays on the deny list, whatever its (unverified) `exp` says. */
const MAX_DENY_MS = 7 * 24 * 60 * 60_000;

/** `RevocationService` bound to one realm (`forRealm(id)`). */
export interface RealmRevocation {
  revoke(token: string, options?: Omit<TokenRequestOptions, 'realm'>): Promise<void>;
}

/**
 * Revokes tokens at the realm (RFC 7009). After a successful revocation this API refuses the
 * token at once: its introspection answer is dropped and it goes on a local deny list until it
 * expires, even though JWTs are otherwise validated locally.
 *
 * @example
 * await this.revocation.revoke(refreshToken, { tokenTypeHint: 'refresh_token' });
 */
@Injectable()
export class RevocationService {
  constructor(
    @Inject(VOXKEY_RESOLVED_OPTIONS) private readonly options: ResolvedVoxKeyOptions,
    private readonly http: RealmHttpClient,
    private readonly introspection: IntrospectionService,
    private readonly revoked: RevocationList,
    private readonly realms: RealmRegistry,
  ) {}

  /**
   * The service for one realm of `realms`: tokens are revoked at that realm, with its credentials.
   * @example
   * await this.revocation.forRealm('acme').revoke(token);
   */
  forRealm(realm: string): RealmRevocation {
    this.realms.require(realm, 'to revoke');
    return { revoke: (token, options = {}) => this.revoke(token, { ...options, realm }) };
  }

  /**
   * Revokes `token`. Resolves when the realm answered 200, which it also does for tokens it does
   * not know (RFC 7009 §2.2).
   * @throws VoxKeyOAuthError when it was not revoked; `retryable` tells whether to try again
   */
  async revoke(token: string, options: TokenRequestOptions = {}): Promise<void> {
    const realm = this.realms.forToken(token, options.realm, 'to revoke').config;
    const params: Record<string, string> = { token };
    if (options.tokenTypeHint) params.token_type_hint = options.tokenTypeHint;
    const credentials = apiCredentials(
      realm,
      'to call the revocation endpoint',
      this.options.multiRealm,
    );
    // RFC 7009 §2.2: any 2xx means revoked, whatever the body says.
    await observeRealmRequest(realm.id, 'revocation', () =>
      this.http.post(realm.endpoints, 'revocation', params, credentials, { ignoreBody: true }),
    );
    await this.revoked.add(token, this.denyUntil(token), realm.id);
    await this.introspection.forget(token, realm.id);
  }

  /**
   * A JWT is refused until local validation would refuse it anyway: `exp` plus the clock
   * tolerance (and a second). Other tokens are only ever checked by introspection, so they need
   * the list only for as long as a cached answer could still say active.
   */
  private denyUntil(token: string): number {
    const now = Date.now();
    const exp = unverifiedExpiry(token);
    if (exp === undefined) return now + this.options.introspection.cacheTtlMs + 1_000;
    return Math.min(exp * 1000 + this.options.clockTolerance * 1000 + 1_000, now + MAX_DENY_MS);
  }
}
