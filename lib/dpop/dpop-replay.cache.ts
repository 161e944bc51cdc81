import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { VoxKeyDpopError } from '../errors/voxkey.errors.js';
import type { ResolvedDpop } from '../interfaces/resolved-voxkey-options.interface.js';
import { ResilientStore } from '../store/resilient.store.js';
import type { VoxKeyStore } from '../store/voxkey-store.interface.js';
import type { VerifiedDpopProof } from './dpop-proof.verifier.js';

// Under the store's own prefix (RedisStore's `voxkey:` by default), as the other shared keys are.
const KEY_PREFIX = 'dpop:';

/**
 * Accepts each DPoP proof once, on every instance that shares the module's store: an atomic
 * insert of a hash of the proof key's thumbprint, the `htu` and the `jti` (so nobody can use up
 * another key's `jti`), kept while the proof's `iat` is inside the accepted window. Called only
 * once every other check passed, so refused requests write nothing.
 *
 * When a shared store fails, `onStoreDown: 'local'` answers from what this instance's memory
 * recorded since the outage began (a proof used before it, or on another instance, could then
 * be used once more; logged once per outage) and `'reject'` throws
 * `SharedStoreUnavailableError` (a 503).
 * @see RFC 9449 §11.1
 */
export class DpopReplayCache {
  private readonly logger = new Logger('VoxKeyDpop');
  private warnedDegraded = false;

  constructor(
    private readonly store: VoxKeyStore,
    private readonly options: Pick<ResolvedDpop, 'maxAgeSec' | 'replay'>,
  ) {}

  /** Records `proof`; throws `VoxKeyDpopError('replay')` when it was used before. */
  async consume(
    proof: VerifiedDpopProof,
    nowSeconds = Math.floor(Date.now() / 1000),
  ): Promise<void> {
    const key =
      KEY_PREFIX +
      createHash('sha256').update(`${proof.jkt}\n${proof.htu}\n${proof.jti}`).digest('base64url');
    // Until the proof's iat leaves the window, and a second more for clocks reading the same second.
    const ttlMs = Math.max(1, proof.iat + this.options.maxAgeSec - nowSeconds + 1) * 1000;
    const store = this.store;
    const strict = this.options.replay.onStoreDown === 'reject' && store instanceof ResilientStore;
    const fresh = strict
      ? await store.setIfAbsentShared(key, '1', ttlMs)
      : await store.setIfAbsent(key, '1', ttlMs);
    if (store instanceof ResilientStore) this.noteDegraded(store.degraded);
    if (!fresh) throw new VoxKeyDpopError('replay', 'the proof was used before');
  }

  private noteDegraded(degraded: boolean): void {
    if (degraded && !this.warnedDegraded) {
      this.logger.warn(
        "DPoP replay cache: the shared store is unavailable; proofs are checked against this instance's memory only until it answers ('dpop.replay.onStoreDown': 'local')",
      );
    }
    this.warnedDegraded = degraded;
  }
}
