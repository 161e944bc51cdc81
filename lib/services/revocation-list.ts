import { Injectable } from '@nestjs/common';
import { MemoryCache } from '../cache/memory-cache.js';
import { hashToken } from '../utils/token-hash.util.js';

/** Most revoked tokens remembered at once. */
const MAX_ENTRIES = 100_000;

/**
 * Tokens revoked through this API, kept by hash until they expire, so a revoked JWT is refused
 * at once even though it is validated locally.
 */
@Injectable()
export class RevocationList {
  private readonly revoked = new MemoryCache<true>(MAX_ENTRIES);

  /** Remembers `token` as revoked until `expiresAtMs`. */
  add(token: string, expiresAtMs: number): void {
    this.revoked.set(hashToken(token), true, expiresAtMs - Date.now());
  }

  /** Whether `token` was revoked here; no hashing at all while the list is empty. */
  has(token: string): boolean {
    return this.revoked.size > 0 && this.revoked.get(hashToken(token)) === true;
  }
}
