import { Logger } from '@nestjs/common';
import { MemoryCache } from '../cache/memory-cache.js';
import { VoxKeyJwksError } from '../errors/voxkey.errors.js';
import type {
  ResolvedRealm,
  ResolvedVoxKeyOptions,
} from '../interfaces/resolved-voxkey-options.interface.js';
import { SingleFlight } from '../utils/single-flight.util.js';
import type { ResolvedRealmsProvider } from './realm-options.js';

/** The realm UUID of an `iss` of the one form the provider is asked about: lower case, nothing else. */
const PROVIDED_PATH = /^\/oauth2\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * Realms that `realmsProvider` adds at run time, behind three bounds: answers are cached (a
 * realm while it is used, "no such realm" briefly), concurrent calls for one realm share one
 * call, and calls for realms not seen before are rate-limited by a token bucket, so a flood of
 * tokens naming random realms makes a bounded number of calls and creates nothing.
 */
export class ProvidedRealms<R extends { readonly config: ResolvedRealm }> {
  private readonly logger = new Logger('VoxKeyRealms');
  private readonly known: MemoryCache<R>;
  private readonly unknown: MemoryCache<true>;
  private readonly inFlight = new SingleFlight<R | undefined>();
  private tokens: number;
  private refilledAt = Date.now();

  constructor(
    private readonly provider: ResolvedRealmsProvider,
    private readonly settings: ResolvedVoxKeyOptions['realmCache'],
    /** Builds a realm's state (its key set) once the provider gave a valid configuration. */
    private readonly create: (config: ResolvedRealm) => R,
    /** What a provided realm would share with a configured one (its id, its key set URL), if anything. */
    private readonly clashWithConfigured: (config: ResolvedRealm) => string | undefined,
    /** Longest wait for one provider call (the module's `requestTimeoutMs`). */
    private readonly timeoutMs: number,
  ) {
    this.known = new MemoryCache(settings.maxEntries);
    this.unknown = new MemoryCache(settings.negativeMaxEntries);
    this.tokens = settings.providerRatePerSec;
  }

  /** How many realms and "no such realm" answers are held (both bounded by `realmCache`). */
  get size(): { readonly known: number; readonly unknown: number; readonly ids: number } {
    return { known: this.known.size, unknown: this.unknown.size, ids: this.ids.size };
  }

  /** A provided realm already loaded for `iss` (no call). */
  peek(iss: string): R | undefined {
    const realm = this.known.get(iss);
    // Idle expiry: each use keeps the realm for another idle period.
    if (realm !== undefined) this.known.set(iss, realm, this.settings.idleTtlMs);
    return realm;
  }

  /** A loaded realm by its id (no call), while the cache still holds it. */
  byId(id: string): R | undefined {
    const realm = this.ids.get(id);
    return realm !== undefined && this.known.get(realm.config.endpoints.issuer) === realm
      ? realm
      : undefined;
  }

  private readonly ids = new Map<string, R>();

  /**
   * The realm of `iss` from the provider, when `iss` has the provided form; undefined for none.
   * @throws VoxKeyJwksError when the provider failed (a 503: the token may be fine)
   */
  async load(iss: string): Promise<R | undefined> {
    const uuid = this.uuidOf(iss);
    if (uuid === undefined || this.unknown.get(iss) === true) return undefined;
    const known = this.peek(iss);
    if (known !== undefined) return known;
    // A call already under way for this realm costs nothing more; a new one spends a token.
    if (!this.inFlight.has(iss) && !this.take()) return undefined;
    return this.inFlight.run(iss, () => this.ask(iss, uuid));
  }

  private uuidOf(iss: string): string | undefined {
    const origin = this.provider.origin;
    if (!iss.startsWith(origin)) return undefined;
    return PROVIDED_PATH.exec(iss.slice(origin.length))?.[1];
  }

  private async ask(iss: string, uuid: string): Promise<R | undefined> {
    let given: Awaited<ReturnType<ResolvedRealmsProvider['provide']>>;
    let timer: NodeJS.Timeout | undefined;
    try {
      // A provider that never answers must not hold requests (and its single-flight entry) forever.
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), this.timeoutMs);
      });
      given = await Promise.race([
        Promise.resolve().then(() => this.provider.provide(uuid)),
        timeout,
      ]);
    } catch (error) {
      const why = !(error instanceof Error)
        ? 'error'
        : error.message === 'timed out'
          ? `no answer within ${this.timeoutMs} ms`
          : error.name;
      this.logger.warn(`realmsProvider('${uuid}') failed: ${why}`);
      throw new VoxKeyJwksError('realmsProvider failed');
    } finally {
      clearTimeout(timer);
    }
    const config = given === undefined ? undefined : this.check(given, uuid, iss);
    if (config === undefined) {
      this.unknown.set(iss, true, this.settings.negativeTtlMs);
      return undefined;
    }
    const realm = this.create(config);
    this.known.set(iss, realm, this.settings.idleTtlMs);
    this.forgetEvicted();
    this.ids.set(config.id, realm);
    return realm;
  }

  /** The provider's answer, validated, when it describes exactly this realm under a free id. */
  private check(
    given: NonNullable<Awaited<ReturnType<ResolvedRealmsProvider['provide']>>>,
    uuid: string,
    iss: string,
  ): ResolvedRealm | undefined {
    let config: ResolvedRealm;
    try {
      config = this.provider.resolve(given, uuid);
    } catch (error) {
      this.logger.error(
        `realmsProvider('${uuid}') returned unusable options: ${(error as Error).message}`,
      );
      return undefined;
    }
    const problem =
      config.uuid !== uuid
        ? 'another realm UUID'
        : config.endpoints.issuer !== iss
          ? `another issuer than ${iss}`
          : (this.clashWithConfigured(config) ?? this.clashWithProvided(config));
    if (problem !== undefined) {
      this.logger.error(`realmsProvider('${uuid}') returned ${problem}; the realm is refused`);
      return undefined;
    }
    return config;
  }

  /** What `config` would share with another provided realm still loaded. */
  private clashWithProvided(config: ResolvedRealm): string | undefined {
    for (const [id, other] of this.ids) {
      if (this.byId(id) === undefined || other.config.uuid === config.uuid) continue;
      if (id === config.id) return `the id '${id}' of another realm`;
      if (other.config.endpoints.jwksUri === config.endpoints.jwksUri) {
        return `the key set URL of realm '${id}'`;
      }
    }
    return undefined;
  }

  /** Ids of realms the cache dropped are dropped too, so the id map stays as bounded as the cache. */
  private forgetEvicted(): void {
    if (this.ids.size < this.settings.maxEntries) return;
    for (const [id, realm] of this.ids) {
      if (this.known.get(realm.config.endpoints.issuer) === undefined) this.ids.delete(id);
    }
  }

  /** Token bucket: `providerRatePerSec` calls a second, as many in a burst. */
  private take(): boolean {
    const now = Date.now();
    const rate = this.settings.providerRatePerSec;
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
