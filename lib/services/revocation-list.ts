import { Inject, Injectable, Logger } from '@nestjs/common';
import { revocationKey } from '../token/token-hash.js';
import { MemoryCache } from '../cache/memory-cache.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { namespaceOf, SharedState } from '../store/shared-state.js';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';
import { RealmRegistry } from '../realm/realm.registry.js';

/** Most revoked tokens remembered at once; entries are never dropped before they expire. */
const MAX_ENTRIES = 1_000_000;
/** How long "not revoked" from a shared store is trusted: revocations reach every instance within this. */
const SHARED_CHECK_EVERY_MS = 1_000;

/**
 * Tokens revoked through this API, kept by hash until they expire, so a revoked JWT is refused
 * at once even though it is validated locally. With a shared store, revocations made by any
 * instance are honoured by every instance within a second; if the store is down, each instance
 * still honours what it revoked itself.
 */
@Injectable()
export class RevocationList {
  private readonly logger = new Logger('VoxKeyRevocation');
  private readonly revoked = new Map<string, number>();
  /** Tokens the shared store recently said are not revoked in a realm, until when that is trusted. */
  private readonly checked = new MemoryCache<true>(100_000);
  /** Each realm's namespace in the store: a `jti` is unique only within its issuer. */
  private readonly namespaces = new Map<string, string>();
  /** Capacity; unexpired entries are never evicted to make room. */
  protected readonly maxEntries: number = MAX_ENTRIES;

  constructor(
    @Inject(VOXKEY_RESOLVED_OPTIONS) options: ResolvedVoxKeyOptions,
    private readonly state: SharedState,
    private readonly realms: RealmRegistry,
  ) {
    for (const realm of options.realms) {
      this.namespaces.set(realm.id, namespaceOf(realm.endpoints.issuer));
    }
  }

  /**
   * Remembers `token` of realm `realmId` as revoked until `expiresAtMs`, here and in the shared
   * store.
   */
  async add(token: string, expiresAtMs: number, realmId: string): Promise<void> {
    const ttl = expiresAtMs - Date.now();
    if (ttl <= 0) return;
    const key = this.keyOf(token, realmId);
    this.remember(key, expiresAtMs);
    // Forget every "not revoked" answer, not only this token's: another encoding of the same
    // signature is another string with its own memo, and must be refused here at once too.
    this.checked.clear();
    if (this.state.shared) await this.state.store.set(this.storeKey(key), String(expiresAtMs), ttl);
  }

  /**
   * Whether `token` of realm `realmId` was revoked, here or (with a shared store) by another
   * instance. No hashing and no store call while nothing is revoked locally and the store is not
   * shared.
   */
  async isRevoked(token: string, realmId: string): Promise<boolean> {
    if (!this.state.shared) {
      return this.revoked.size > 0 && this.revokedLocally(this.keyOf(token, realmId));
    }
    // Per realm: an opaque token names no issuer, and "not revoked in B" says nothing about A.
    const memo = `${realmId}\n${token}`;
    if (this.checked.get(memo) === true) return false;
    const key = this.keyOf(token, realmId);
    if (this.revokedLocally(key)) return true;
    return this.isRevokedInStore(memo, key);
  }

  private async isRevokedInStore(memo: string, key: string): Promise<boolean> {
    const expiresAt = Number(await this.state.store.get(this.storeKey(key)));
    if (expiresAt > Date.now()) {
      this.remember(key, expiresAt);
      return true;
    }
    // A revocation made here while the store answered must not be shadowed for a second.
    if (this.revokedLocally(key)) return true;
    this.checked.set(memo, true, SHARED_CHECK_EVERY_MS);
    return false;
  }

  private revokedLocally(key: string): boolean {
    const expiresAt = this.revoked.get(key);
    if (expiresAt === undefined) return false;
    if (expiresAt > Date.now()) return true;
    this.revoked.delete(key);
    return false;
  }

  private remember(key: string, expiresAtMs: number): void {
    if (this.revoked.size >= this.maxEntries) this.purgeExpired();
    if (this.revoked.size >= this.maxEntries) {
      this.logger.error(
        `The local deny list holds ${this.maxEntries} unexpired revocations; this one is only known to the realm`,
      );
      return;
    }
    this.revoked.set(key, expiresAtMs);
  }

  /** The realm's namespace and the token's deny-list hash. */
  private keyOf(token: string, realmId: string): string {
    // A realm from `realmsProvider` has no precomputed namespace: its issuer's, computed here.
    const namespace =
      this.namespaces.get(realmId) ??
      namespaceOf(this.realms.get(realmId)?.config.endpoints.issuer ?? `unknown realm ${realmId}`);
    return `${namespace}:${revocationKey(token)}`;
  }

  private storeKey(key: string): string {
    return `revoked:${key}`;
  }

  private purgeExpired(): void {
    const now = Date.now();
    for (const [key, expiresAt] of this.revoked) if (expiresAt <= now) this.revoked.delete(key);
  }
}
