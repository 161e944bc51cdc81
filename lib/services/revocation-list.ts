import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';

/** Most revoked tokens remembered at once; entries are never dropped before they expire. */
const MAX_ENTRIES = 1_000_000;

/**
 * The deny-list key of a token. For a JWT it is the hash of the signing input
 * (`header.payload`), so another encoding of the same signature (spare bits in the last base64url
 * character, or ECDSA's `(r, n - s)`) cannot slip past; for other tokens, the hash of the token.
 */
export function revocationKey(token: string): string {
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  const signed = first > 0 && last > first && token.indexOf('.', first + 1) === last;
  return createHash('sha256')
    .update(signed ? token.slice(0, last) : token)
    .digest('base64url');
}

/**
 * Tokens revoked through this API, kept by hash until they expire, so a revoked JWT is refused
 * at once even though it is validated locally. Per process: other instances learn of a
 * revocation through the realm (`@RequireActiveToken()`), or through a shared store.
 */
@Injectable()
export class RevocationList {
  private readonly logger = new Logger('VoxKeyRevocation');
  private readonly revoked = new Map<string, number>();
  /** Capacity; unexpired entries are never evicted to make room. */
  protected readonly maxEntries: number = MAX_ENTRIES;

  /** Remembers `token` as revoked until `expiresAtMs`. */
  add(token: string, expiresAtMs: number): void {
    if (expiresAtMs <= Date.now()) return;
    if (this.revoked.size >= this.maxEntries) this.purgeExpired();
    if (this.revoked.size >= this.maxEntries) {
      this.logger.error(
        `The local deny list holds ${this.maxEntries} unexpired revocations; this one is only known to the realm`,
      );
      return;
    }
    this.revoked.set(revocationKey(token), expiresAtMs);
  }

  /** Whether `token` was revoked here; no hashing at all while the list is empty. */
  has(token: string): boolean {
    if (this.revoked.size === 0) return false;
    const key = revocationKey(token);
    const expiresAt = this.revoked.get(key);
    if (expiresAt === undefined) return false;
    if (expiresAt > Date.now()) return true;
    this.revoked.delete(key);
    return false;
  }

  private purgeExpired(): void {
    const now = Date.now();
    for (const [key, expiresAt] of this.revoked) if (expiresAt <= now) this.revoked.delete(key);
  }
}
