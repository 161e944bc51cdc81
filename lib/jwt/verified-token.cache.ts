import { Inject, Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';
import { JwksKeyStore } from './jwks-key.store.js';
import { tokenLookupKey } from './token-lookup-key.js';

interface Entry {
  /** The whole token: the map's key is only its end. */
  readonly token: string;
  readonly claims: VoxKeyClaims;
  /** Last second the token is accepted: `exp` plus the clock tolerance. */
  readonly until: number;
  /** First second it is accepted: `nbf` minus the clock tolerance. */
  readonly from: number;
  /** The realm key that verified it: a hit needs it still published. */
  readonly key: KeyObject;
  /** Whether the claims hold objects or arrays, which a shallow copy would share. */
  readonly nested: boolean;
}

/**
 * Tokens whose signature and claims were verified, so a token seen again skips the signature
 * check (and Passport). Found by the token's end and matched on the whole token string (see
 * `tokenLookupKey`). A hit still checks `exp` and `nbf`; the deny list is checked by the guard
 * before, and the key that verified it must still be in the realm's published set (a withdrawn
 * key stops its tokens at the next JWKS refresh). An entry never outlives its token, and past
 * `tokenCache.maxEntries` the oldest entry goes first (a hit writes nothing).
 */
@Injectable()
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();
  /** Lookups answered from the cache, and those that were not: for monitoring and tests. */
  readonly stats = { hits: 0, misses: 0 };
  private readonly maxEntries: number;
  private readonly tolerance: number;
  private readonly maxTokenAge: number | undefined;

  constructor(
    @Inject(VOXKEY_RESOLVED_OPTIONS) options: ResolvedVoxKeyOptions,
    private readonly keyStore: JwksKeyStore,
  ) {
    this.maxEntries = options.tokenCache.maxEntries;
    this.maxTokenAge = options.maxTokenAge;
    this.tolerance = options.clockTolerance;
  }

  /** Number of cached tokens. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Whether `token` is held, expired or not: it passed the bearer grammar and the signature
   * check when it was added. For the header parser, which can then skip its character scan.
   */
  readonly holds = (token: string): boolean =>
    this.entries.get(tokenLookupKey(token))?.token === token;

  /** A copy of the token's claims when it was verified and is still within its lifetime. */
  get(token: string, nowSeconds = Date.now() / 1000): VoxKeyClaims | undefined {
    const lookup = tokenLookupKey(token);
    const found = this.entries.get(lookup);
    // Another token with the same end is not this one.
    const entry = found?.token === token ? found : undefined;
    if (
      entry === undefined ||
      nowSeconds >= entry.until ||
      nowSeconds < entry.from ||
      !this.keyStore.isCurrent(entry.key)
    ) {
      if (entry !== undefined && nowSeconds >= entry.until) this.entries.delete(lookup);
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    // Each request gets its own object, nested members included: handlers may write to req.user.
    return entry.nested ? structuredClone(entry.claims) : { ...entry.claims };
  }

  /** Remembers claims that were just verified for `token`. */
  set(token: string, claims: VoxKeyClaims, key: KeyObject): void {
    if (this.maxEntries === 0) return;
    const nbf = typeof claims.nbf === 'number' ? claims.nbf : Number.NEGATIVE_INFINITY;
    // With maxTokenAge, a token also ends at iat + maxTokenAge (jsonwebtoken only checks it once).
    const end =
      this.maxTokenAge !== undefined && typeof claims.iat === 'number'
        ? Math.min(claims.exp, claims.iat + this.maxTokenAge)
        : claims.exp;
    const nested = Object.values(claims).some((v) => typeof v === 'object' && v !== null);
    const lookup = tokenLookupKey(token);
    this.entries.delete(lookup);
    this.entries.set(lookup, {
      token,
      claims: nested ? structuredClone(claims) : { ...claims },
      nested,
      until: end + this.tolerance,
      from: nbf - this.tolerance,
      key,
    });
    if (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
  }
}
