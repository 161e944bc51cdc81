import { Logger } from '@nestjs/common';
import type { VoxKeyStore } from './voxkey-store.interface.js';

/**
 * The part of a node-redis client (`redis` v4 to v6, `createClient()`) the store uses. Commands go
 * through `sendCommand`, which every version has with the same shape.
 */
export interface RedisClientLike {
  sendCommand(args: string[]): Promise<unknown>;
}

/** Options of `RedisStore`. */
export interface RedisStoreOptions {
  /**
   * A connected node-redis client you already have. The store never closes it; give it an
   * `'error'` listener, as node-redis requires (an unhandled one ends the process).
   */
  client?: RedisClientLike;
  /** Or a URL (`redis://127.0.0.1:6379`): the store creates, connects and closes its own client. */
  url?: string;
  /** Prefix of every key. @default 'voxkey:' */
  prefix?: string;
}

/**
 * A `VoxKeyStore` on Redis, through the official node-redis client (`redis`, an optional peer
 * dependency). Entries expire with Redis' own TTLs (`SET ... PX`); the lock is `SET ... NX PX`.
 *
 * @example
 * store: new RedisStore({ url: 'redis://127.0.0.1:6379', prefix: 'orders-api:voxkey:' })
 */
export class RedisStore implements VoxKeyStore {
  readonly shared = true;
  private readonly prefix: string;
  private client: RedisClientLike | undefined;
  private ownClient: { close?: () => Promise<unknown>; quit?: () => Promise<unknown> } | undefined;
  private connecting: Promise<RedisClientLike> | undefined;
  private closed = false;
  private readonly logger = new Logger('VoxKeyRedisStore');

  constructor(private readonly options: RedisStoreOptions) {
    if (!options.client && !options.url) {
      throw new TypeError('RedisStore needs a node-redis `client` or a `url`');
    }
    this.client = options.client;
    this.prefix = options.prefix ?? 'voxkey:';
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.command(['GET', this.prefix + key]);
    return typeof value === 'string' ? value : undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const ttl = Math.ceil(ttlMs);
    if (ttl <= 0) return this.delete(key);
    await this.command(['SET', this.prefix + key, value, 'PX', String(ttl)]);
  }

  async delete(key: string): Promise<void> {
    await this.command(['DEL', this.prefix + key]);
  }

  async deleteIfEquals(key: string, value: string): Promise<void> {
    await this.command([
      'EVAL',
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      '1',
      this.prefix + key,
      value,
    ]);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    return (await this.command(['SET', this.prefix + key, value, 'PX', ttl, 'NX'])) === 'OK';
  }

  /** Connects the client for `url` ahead of the first command. */
  async connect(): Promise<void> {
    if (!this.client) await this.createConnection();
  }

  /** Closes the client the store created from `url`; a client passed in is left alone. */
  async close(): Promise<void> {
    this.closed = true;
    const own = this.ownClient;
    this.ownClient = undefined;
    this.client = this.options.client;
    if (own) await (own.close ?? own.quit)?.call(own).catch(() => undefined);
  }

  private async command(args: string[]): Promise<unknown> {
    if (this.closed) throw new Error('RedisStore is closed');
    const client = this.client ?? (await this.createConnection());
    return client.sendCommand(args);
  }

  /** Creates the client for `url` once; commands fail fast while it is disconnected. */
  private createConnection(): Promise<RedisClientLike> {
    this.connecting ??= (async () => {
      const { createClient } = await import('redis');
      const client = createClient({
        url: this.options.url,
        // Fail at once rather than queue while Redis is away: the library then uses
        // in-process state, and the client keeps reconnecting in the background.
        disableOfflineQueue: true,
        socket: {
          connectTimeout: 2_000,
          reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000),
        },
      });
      // Without a listener an 'error' event would crash the process.
      client.on('error', (error: Error) => this.logger.debug(`Redis client: ${error.message}`));
      try {
        await client.connect();
      } catch (error) {
        // Stop its reconnection loop; the next command creates a fresh client.
        const closable = client as unknown as {
          destroy?: () => unknown;
          disconnect?: () => unknown;
        };
        await Promise.resolve((closable.destroy ?? closable.disconnect)?.call(client)).catch(
          () => undefined,
        );
        throw error;
      }
      this.client = client as unknown as RedisClientLike;
      this.ownClient = client as never;
      return this.client;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }
}
