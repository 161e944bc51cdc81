import { Logger } from '@nestjs/common';
import { MemoryStore } from './memory.store.js';
import type { VoxKeyStore } from './voxkey-store.interface.js';

/** Longest a shared-store call may take before the in-process fallback answers instead. */
const CALL_TIMEOUT_MS = 250;
/** Time allowed to connect at startup. */
const CONNECT_TIMEOUT_MS = 3_000;
/** While the shared store is failing, how often one call tries it again. */
const PROBE_EVERY_MS = 1_000;

/** The shared store is failing, and the caller asked for no in-process answer. */
export class SharedStoreUnavailableError extends Error {
  constructor() {
    super('the shared store is unavailable');
  }
}

class StoreTimeoutError extends Error {
  constructor() {
    super(`no answer within ${CALL_TIMEOUT_MS} ms`);
  }
}

/**
 * Puts a time limit on every call to a shared store and, when it fails or is slow, answers from
 * in-process state instead: a warning is logged once, requests keep being served, and once a
 * second one call probes the shared store until it answers again ("reachable again" is logged).
 */
export class ResilientStore implements VoxKeyStore {
  readonly shared: boolean;
  private readonly fallback = new MemoryStore();
  private readonly logger = new Logger('VoxKeyStore');
  private downSince: number | undefined;
  private probing = false;

  constructor(private readonly primary: VoxKeyStore) {
    this.shared = primary.shared !== false;
  }

  /** Whether calls currently go to the in-process fallback. */
  get degraded(): boolean {
    return this.downSince !== undefined;
  }

  get(key: string): Promise<string | undefined> {
    return this.call((store) => store.get(key));
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    return this.call((store) => store.set(key, value, ttlMs));
  }

  delete(key: string): Promise<void> {
    return this.call((store) => store.delete(key));
  }

  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.call((store) => store.setIfAbsent(key, value, ttlMs));
  }

  /**
   * `setIfAbsent` on the shared store alone: while it fails (or within its time limit does not
   * answer) this rejects with `SharedStoreUnavailableError` instead of answering from
   * in-process state, for callers that must not decide alone (the DPoP replay cache's
   * `onStoreDown: 'reject'`).
   */
  setIfAbsentShared(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.call((store) => store.setIfAbsent(key, value, ttlMs), false);
  }

  /** Connects ahead of the first request; a failure only means starting on the fallback. */
  async connect(): Promise<void> {
    if (!this.primary.connect) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      const connecting = this.primary.connect();
      connecting.catch(() => undefined);
      await Promise.race([
        connecting,
        new Promise((_resolve, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)),
            CONNECT_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      this.logger.warn(
        `Shared store unavailable at startup (${error instanceof Error ? error.message : 'error'}); ` +
          'using in-process state until it answers',
      );
      this.downSince = Date.now();
    } finally {
      clearTimeout(timer);
    }
  }

  deleteIfEquals(key: string, value: string): Promise<void> {
    return this.call((store) =>
      store.deleteIfEquals ? store.deleteIfEquals(key, value) : store.delete(key),
    );
  }

  async close(): Promise<void> {
    await this.primary.close?.();
  }

  private async call<T>(
    operation: (store: VoxKeyStore) => Promise<T>,
    fallback = true,
  ): Promise<T> {
    const answerLocally = (): Promise<T> =>
      fallback ? operation(this.fallback) : Promise.reject(new SharedStoreUnavailableError());
    if (this.downSince !== undefined) {
      if (this.probing || Date.now() - this.downSince < PROBE_EVERY_MS) return answerLocally();
      this.probing = true;
    }
    try {
      const result = await this.withTimeout(operation(this.primary));
      if (this.downSince !== undefined) {
        this.logger.log('Shared store reachable again; sharing state across instances resumes');
        this.downSince = undefined;
      }
      return result;
    } catch (error) {
      if (this.downSince === undefined) {
        this.logger.warn(
          `Shared store unavailable (${error instanceof Error ? error.message : 'error'}); ` +
            'using in-process state until it answers again',
        );
      }
      this.downSince = Date.now();
      return answerLocally();
    } finally {
      this.probing = false;
    }
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new StoreTimeoutError()), CALL_TIMEOUT_MS);
    });
    promise.catch(() => undefined); // a late failure after the timeout must not go unhandled
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}
