import { Inject, Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';

interface Entry {
  readonly claims: VoxKeyClaims;
  /** Last second the token is accepted: `exp` (or `iat + maxTokenAge`) plus the clock tolerance. */
  readonly until: number;
  /** First second it is accepted: `nbf` minus the clock tolerance. */
  readonly from: number;
  /** The realm key that verified it. */
  readonly key: KeyObject;
  /** Whether the claims hold objects or arrays, which a shallow copy would share. */
  readonly nested: boolean;
}

/** A token found in the cache: a private copy of its claims, and the key that verified it. */
export interface VerifiedToken {
  readonly claims: VoxKeyClaims;
  readonly key: KeyObject;
}

/**
 * Tokens whose signature and claims were verified, so a token seen again skips the signature
 * check and Passport. A hit is only a token still within its lifetime (`exp`, `nbf`,
 * `maxTokenAge`); the guard checks the deny list before, and that the key is still published
 * after. An entry never outlives its token, and past `tokenCache.maxEntries` the least recently
 * used entries go first.
 */
@Injectable()
export class VerifiedTokenCache {
  /** Lifetimes are checked here (`nbf` too, against the caller's clock), so lru-cache only bounds it. */
  private readonly entries: LRUCache<string, Entry> | undefined;
  /** Lookups answered from the cache, and those that were not: for monitoring and tests. */
  readonly stats = { hits: 0, misses: 0 };
  private readonly tolerance: number;
  private readonly maxTokenAge: number | undefined;

  constructor(@Inject(VOXKEY_RESOLVED_OPTIONS) options: ResolvedVoxKeyOptions) {
    const { maxEntries } = options.tokenCache;
    this.entries = maxEntries > 0 ? new LRUCache({ max: maxEntries }) : undefined;
    this.maxTokenAge = options.maxTokenAge;
    this.tolerance = options.clockTolerance;
  }

  /** Number of cached tokens. */
  get size(): number {
    return this.entries?.size ?? 0;
  }

  /** The token's claims (a copy) and verifying key, when it was verified and is still within its lifetime. */
  get(token: string, nowSeconds = Date.now() / 1000): VerifiedToken | undefined {
    const entry = this.entries?.get(token);
    if (entry === undefined || nowSeconds >= entry.until || nowSeconds < entry.from) {
      if (entry !== undefined && nowSeconds >= entry.until) this.entries?.delete(token);
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    // Each request gets its own object, nested members included: handlers may write to req.user.
    const claims = entry.nested ? structuredClone(entry.claims) : { ...entry.claims };
    return { claims, key: entry.key };
  }

  /**
   * The last second a token with these (verified) claims is accepted: `exp`, or `iat +
   * maxTokenAge` when sooner, plus the clock tolerance; undefined without a finite `exp`.
   */
  acceptedUntil(claims: VoxKeyClaims): number | undefined {
    if (!Number.isFinite(claims.exp)) return undefined;
    const end =
      this.maxTokenAge !== undefined && typeof claims.iat === 'number'
        ? Math.min(claims.exp, claims.iat + this.maxTokenAge)
        : claims.exp;
    return end + this.tolerance;
  }

  /** Whether verified claims are still within their lifetime (`nbf` and `exp`, with the tolerance). */
  isWithinLifetime(claims: VoxKeyClaims, nowSeconds = Date.now() / 1000): boolean {
    const until = this.acceptedUntil(claims);
    const nbf = typeof claims.nbf === 'number' ? claims.nbf : Number.NEGATIVE_INFINITY;
    return until !== undefined && nowSeconds < until && nowSeconds >= nbf - this.tolerance;
  }

  /** Remembers claims that were just verified for `token` with `key`. */
  set(token: string, claims: VoxKeyClaims, key: KeyObject): void {
    // Only claims whose lifetime is known are kept: an entry must never outlive its token.
    const until = this.acceptedUntil(claims);
    if (this.entries === undefined || until === undefined) return;
    const nbf = typeof claims.nbf === 'number' ? claims.nbf : Number.NEGATIVE_INFINITY;
    const nested = Object.values(claims).some((v) => typeof v === 'object' && v !== null);
    this.entries.set(token, {
      claims: nested ? structuredClone(claims) : { ...claims },
      nested,
      until,
      from: nbf - this.tolerance,
      key,
    });
  }
}
