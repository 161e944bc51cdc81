import type { VoxKeyTransportError } from '../errors/voxkey.errors.js';

/** A realm's key set as the health indicator sees it (with `validation: 'jwt'`). */
export interface VoxKeyKeySetHealth {
  /** Usable keys loaded: 0 until a fetch succeeds; kept while later fetches fail. */
  keys: number;
  /** When the keys were last fetched successfully (ISO 8601), or null if never. */
  lastSuccessAt: string | null;
  /** Whole seconds since then, or null if never. */
  ageSeconds: number | null;
  /** The keys are older than `jwks.cacheMaxAgeMs`: the next request refreshes them. */
  stale: boolean;
  /** The last fetch failed (keys already loaded keep verifying tokens). */
  lastFetchFailed: boolean;
  /** Why the last fetch failed, or null after a success. */
  lastError: VoxKeyTransportError | null;
  /** A token with an unknown `kid` would not cause a fetch now (cool-down or back-off). */
  coolingDown: boolean;
  /** Where the key set is fetched: scheme, host and path only. */
  url: string;
}

/** The last call this API made to a realm's introspection endpoint (no call is made to check). */
export interface VoxKeyIntrospectionHealth {
  /** `'up'` if the last call got an answer, `'down'` if it failed, `'unknown'` before any call. */
  status: 'up' | 'down' | 'unknown';
  /** When that call ended (ISO 8601), or null before any call. */
  lastCallAt: string | null;
  /** Its error code (`timeout`, `network_error`, `http_error`, `invalid_response` or the realm's OAuth `error`), or null. */
  lastError: string | null;
}

/** One configured realm. */
export interface VoxKeyRealmHealth {
  /** `'down'` when tokens of this realm cannot be verified: no key set loaded (`validation: 'jwt'`). */
  status: 'up' | 'down';
  /** With `validation: 'jwt'`. */
  keySet?: VoxKeyKeySetHealth;
  /** When the realm has `clientId` and `clientSecret` (introspection can be called). */
  introspection?: VoxKeyIntrospectionHealth;
}

/**
 * What `VoxKeyHealthIndicator.isHealthy()` reports under its key: `status` is `'down'` when a
 * configured realm's tokens cannot be verified; the store and the introspection endpoints are
 * reported but never make it `'down'` (see the README's "Health and start-up").
 */
export interface VoxKeyHealth {
  status: 'up' | 'down';
  /** Each configured realm by id (not those `realmsProvider` added). */
  realms?: Record<string, VoxKeyRealmHealth>;
  /** With a `store`: `'down'` while it does not answer and in-process state is used instead. */
  store?: { status: 'up' | 'down'; shared: boolean };
  /** Only when the indicator itself failed (it then reports `'down'` rather than throwing). */
  message?: string;
}

/** The `{ [key]: { status, ... } }` object `@nestjs/terminus` 11 and 12 take from an indicator. */
export type VoxKeyHealthResult<K extends string = 'voxkey'> = Record<K, VoxKeyHealth>;
