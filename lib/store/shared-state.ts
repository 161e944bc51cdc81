import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';
import { MemoryStore } from './memory.store.js';
import { ResilientStore } from './resilient.store.js';
import { TokenCipher } from './token-cipher.js';
import type { VoxKeyStore } from './voxkey-store.interface.js';

/** A short, stable tag for a namespace: keys of different realms or APIs never collide. */
export function namespaceOf(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 16);
}

/**
 * The store the services share state through (the module's `store`, behind time limits and an
 * in-process fallback, or the default in-process store), and the cipher for cached tokens.
 */
@Injectable()
export class SharedState implements OnModuleInit, OnApplicationShutdown {
  readonly store: VoxKeyStore;
  readonly cipher: TokenCipher;

  constructor(@Inject(VOXKEY_RESOLVED_OPTIONS) options: ResolvedVoxKeyOptions) {
    this.store = options.store
      ? new ResilientStore(options.store)
      : new MemoryStore(options.introspection.cacheMaxEntries);
    this.cipher = new TokenCipher(options.encryptionKey);
    if (this.store.shared && !this.cipher.encrypting) {
      new Logger('VoxKeyStore').warn(
        "Cached M2M access tokens are kept in the shared store unencrypted; set 'encryptionKey' to encrypt them",
      );
    }
  }

  /** Whether other instances can see what this one stores. */
  get shared(): boolean {
    return this.store.shared !== false;
  }

  /** Opens the shared store's connection before the first request needs it. */
  async onModuleInit(): Promise<void> {
    await this.store.connect?.();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close?.();
  }
}
