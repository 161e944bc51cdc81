import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  VoxKeyHealth,
  VoxKeyHealthResult,
  VoxKeyKeySetHealth,
  VoxKeyRealmHealth,
} from '../interfaces/voxkey-health.interface.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { RealmHttpClient } from '../realm/realm-http.client.js';
import { type Realm, RealmRegistry } from '../realm/realm.registry.js';
import { ResilientStore } from '../store/resilient.store.js';
import { SharedState } from '../store/shared-state.js';
import { displayUrl } from '../utils/display-url.util.js';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';

const iso = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString();

/**
 * A health indicator for readiness probes, in the shape `@nestjs/terminus` 11 and 12 accept
 * (without depending on it): whether each configured realm's key set is loaded, how old it is and
 * whether its last refresh failed; the shared store and the introspection endpoints, when
 * configured. It reads what the module already holds: a probe never fetches a key set, calls a
 * realm or sends a token, and it never throws.
 *
 * @example
 * @Get('health/ready')
 * @Public()
 * @HealthCheck()
 * ready() {
 *   return this.health.check([() => this.voxkey.isHealthy('voxkey')]);
 * }
 * @publicApi
 */
@Injectable()
export class VoxKeyHealthIndicator {
  private readonly logger = new Logger('VoxKeyHealth');

  constructor(
    @Inject(VOXKEY_RESOLVED_OPTIONS) private readonly options: ResolvedVoxKeyOptions,
    private readonly realms: RealmRegistry,
    private readonly state: SharedState,
    private readonly http: RealmHttpClient,
  ) {}

  /**
   * `{ [key]: { status: 'up' | 'down', realms, store? } }`: `'down'` while no configured realm has
   * a key set loaded (before the pre-warm or the first request succeeds; each realm's own entry
   * says which are down), else `'up'`, also
   * while keys already loaded are served after failed refreshes (`lastFetchFailed`).
   */
  async isHealthy<const K extends string = 'voxkey'>(
    key: K = 'voxkey' as K,
  ): Promise<VoxKeyHealthResult<K>> {
    let health: VoxKeyHealth;
    try {
      health = this.check();
    } catch (error) {
      this.logger.error(
        `Health check failed: ${error instanceof Error ? error.name : 'unknown error'}`,
      );
      health = { status: 'down', message: 'the VoxKey health check failed' };
    }
    return { [key]: health } as VoxKeyHealthResult<K>;
  }

  private check(): VoxKeyHealth {
    const now = Date.now();
    const realms: Record<string, VoxKeyRealmHealth> = {};
    for (const realm of this.realms.all()) realms[realm.config.id] = this.realm(realm, now);
    // Down only when no realm can verify anything: one tenant's broken key set must not take
    // every instance out of rotation for all the others (its own entry still says 'down').
    const statuses = Object.values(realms).map((realm) => realm.status);
    const health: VoxKeyHealth = {
      status: statuses.length > 0 && statuses.every((status) => status === 'down') ? 'down' : 'up',
      realms,
    };
    // The module's `store` is always behind a ResilientStore; the default one is in-process.
    const { store } = this.state;
    if (store instanceof ResilientStore) {
      health.store = { status: store.degraded ? 'down' : 'up', shared: store.shared };
    }
    return health;
  }

  private realm(realm: Realm, now: number): VoxKeyRealmHealth {
    const health: VoxKeyRealmHealth = { status: 'up' };
    if (this.options.validation === 'jwt') {
      health.keySet = this.keySet(realm, now);
      if (health.keySet.keys === 0) health.status = 'down';
    }
    const { clientId, clientSecret, endpoints } = realm.config;
    if (clientId !== undefined && clientSecret !== undefined) {
      const last = this.http.lastOutcome(endpoints, 'introspection');
      health.introspection = {
        status: last === undefined ? 'unknown' : last.error === undefined ? 'up' : 'down',
        lastCallAt: iso(last?.at),
        lastError: last?.error ?? null,
      };
    }
    return health;
  }

  private keySet(realm: Realm, now: number): VoxKeyKeySetHealth {
    const state = realm.keys.state;
    const age = state.fetchedAt === undefined ? undefined : now - state.fetchedAt;
    return {
      keys: state.keys,
      lastSuccessAt: iso(state.fetchedAt),
      ageSeconds: age === undefined ? null : Math.max(0, Math.floor(age / 1000)),
      stale: age !== undefined && age >= this.options.jwks.cacheMaxAgeMs,
      lastFetchFailed: state.lastFetchFailed,
      lastError: state.lastError ?? null,
      coolingDown: state.coolingDown,
      url: displayUrl(realm.config.endpoints.jwksUri),
    };
  }
}
