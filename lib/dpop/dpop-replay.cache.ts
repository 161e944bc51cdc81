import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { VoxKeyDpopError } from '../errors/voxkey.errors.js';
import type { ResolvedDpop } from '../interfaces/resolved-voxkey-options.interface.js';
import { ResilientStore, SharedStoreUnavailableError } from '../store/resilient.store.js';
import type { VoxKeyStore } from '../store/voxkey-store.interface.js';
import type { VerifiedDpopProof } from './dpop-proof.verifier.js';

// Stores prefix keys with their own namespace (RedisStore: 'voxkey:').
const KEY_PREFIX = 'dpop:';
/**
 * Most proofs this instance holds in memory at once (about 150 MB at worst; 1,000 accepted
 * requests a second for the default 330 s window is a third of it). Full, it refuses new proofs
 * (503) rather than forget one still inside its window.
 */
const MAX_LOCAL_PROOFS = 1_000_000;

/**
 * Proofs seen by this instance, each until its window ends. Never evicts an entry early (an LRU
 * would let a flood of valid proofs push a used one out and make it usable again); expired ones
 * are dropped from the front, where the oldest are.
 */
class LocalProofs {
  private readonly until = new Map<string, number>();

  /** Records `key`; false when it is already there; throws when full. */
  add(key: string, ttlMs: number, nowMs: number): boolean {
    for (const [oldest, expiresAt] of this.until) {
      if (expiresAt > nowMs) break;
      this.until.delete(oldest);
    }
    const seen = this.until.get(key);
    if (seen !== undefined && seen > nowMs) return false;
    if (this.until.size >= MAX_LOCAL_PROOFS) throw new SharedStoreUnavailableError();
    this.until.delete(key);
    this.until.set(key, nowMs + ttlMs);
    return true;
  }
}

/**
 * Accepts each DPoP proof once, on every instance that shares the module's store: an atomic
 * insert of a hash of the proof key's thumbprint, the `htu` and the `jti` (so nobody can use up
 * another key's `jti`), kept while the proof's `iat` is inside the accepted window (plus the
 * future leeway, for instances whose clocks differ). Called only once every other check passed,
 * so refused requests write nothing. Without a shared store, this instance's memory holds them.
 *
 * When the shared store fails, `onStoreDown: 'local'` checks against this instance's memory,
 * which knows only the proofs seen since the outage began (a proof could then be used once more
 * on each instance, this one included; logged once per outage) and
 * `'reject'` throws `SharedStoreUnavailableError` (a 503).
 * @see RFC 9449 §11.1
 */
export class DpopReplayCache {
  private readonly logger = new Logger('VoxKeyDpop');
  private readonly local = new LocalProofs();
  private degraded = false;

  constructor(
    /** The module's shared store, or undefined when state is per instance. */
    private readonly shared: VoxKeyStore | undefined,
    private readonly options: Pick<ResolvedDpop, 'maxAgeSec' | 'futureLeewaySec' | 'replay'>,
  ) {}

  /** Records `proof`; throws `VoxKeyDpopError('replay')` when it was used before. */
  async consume(proof: VerifiedDpopProof, nowMs = Date.now()): Promise<void> {
    const digest = createHash('sha256')
      .update(`${proof.jkt}\n${proof.htu}\n${proof.jti}`)
      .digest('base64url');
    const { maxAgeSec, futureLeewaySec } = this.options;
    const ttlMs = Math.max(1_000, (proof.iat + maxAgeSec + futureLeewaySec + 1) * 1000 - nowMs);
    if (!(await this.record(digest, ttlMs, nowMs))) {
      throw new VoxKeyDpopError('replay', 'the proof was used before');
    }
  }

  private async record(digest: string, ttlMs: number, nowMs: number): Promise<boolean> {
    if (this.shared === undefined) return this.local.add(digest, ttlMs, nowMs);
    try {
      const fresh =
        this.shared instanceof ResilientStore
          ? await this.shared.setIfAbsentShared(KEY_PREFIX + digest, '1', ttlMs)
          : await this.shared.setIfAbsent(KEY_PREFIX + digest, '1', ttlMs);
      this.degraded = false;
      return fresh;
    } catch (error) {
      if (this.options.replay.onStoreDown === 'reject') throw new SharedStoreUnavailableError();
      if (!this.degraded) {
        this.logger.warn(
          `DPoP replay cache: the shared store is unavailable (${error instanceof Error ? error.name : 'error'}); proofs are checked against this instance's memory only until it answers ('dpop.replay.onStoreDown': 'local')`,
        );
      }
      this.degraded = true;
      return this.local.add(digest, ttlMs, nowMs);
    }
  }
}
