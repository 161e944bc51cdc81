/**
 * Where the library keeps state that several instances of an API can share: cached M2M tokens,
 * introspection answers and revocations. Values are strings; keys never contain raw tokens.
 *
 * Implementations must be safe to call concurrently. The library gives every call a time limit
 * and falls back to in-process state when a shared store fails, so a store may simply throw.
 *
 * @example
 * VoxKeyModule.forRoot({ ..., store: new RedisStore({ url: process.env.REDIS_URL }) });
 */
export interface VoxKeyStore {
  /** The value, or undefined when absent or expired. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` for `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Atomically stores `value` for `ttlMs` only if `key` is absent; resolves to whether it did.
   * Used as a lock that expires by itself if its holder dies.
   */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /**
   * Atomically deletes `key` only if it still holds `value` (releasing a lock this holder
   * owns, never another's). Optional: without it, `delete` is used.
   */
  deleteIfEquals?(key: string, value: string): Promise<void>;
  /**
   * False for stores local to one process (the default in-process store), which lets the
   * library skip lookups that cannot tell it anything new. @default true
   */
  readonly shared?: boolean;
  /** Called once at startup (bounded in time): opens connections ahead of the first request. */
  connect?(): Promise<void>;
  /** Called on application shutdown; closes connections the store opened itself. */
  close?(): Promise<void>;
}
