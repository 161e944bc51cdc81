import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { VoxKeyJwksError } from '../errors/voxkey.errors.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { type Realm, RealmRegistry } from '../realm/realm.registry.js';
import { displayUrl } from '../utils/display-url.util.js';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';

/** After a failed pre-warm, the next attempt waits this long, doubling in the background ... */
const FIRST_RETRY_MS = 1_000;
/** ... up to this. */
const MAX_RETRY_MS = 30_000;

/**
 * Fetches the configured realms' key sets while the application starts (`prewarm`), through each
 * realm's key provider as a request would (one fetch in flight, the same back-off), so the first
 * requests after a deployment do not each wait for the JWKS endpoint. `'background'` retries a
 * realm whose fetch failed until it succeeds; `'block'` makes start-up wait and fail.
 */
@Injectable()
export class JwksPrewarm implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    @Inject(VOXKEY_RESOLVED_OPTIONS) private readonly options: ResolvedVoxKeyOptions,
    private readonly realms: RealmRegistry,
  ) {}

  /**
   * @throws VoxKeyJwksError with `prewarm: 'block'`, when a realm's key set is not loaded within
   * `prewarmTimeoutMs`
   */
  async onApplicationBootstrap(): Promise<void> {
    // Introspection authenticates every token: no key set is ever used.
    if (this.options.prewarm === 'off' || this.options.validation !== 'jwt') return;
    if (this.options.prewarm === 'background') {
      for (const realm of this.realms.all()) this.inBackground(realm, FIRST_RETRY_MS);
      return;
    }
    await this.block(this.realms.all());
  }

  onApplicationShutdown(): void {
    this.stop();
  }

  private inBackground(realm: Realm, retryMs: number): void {
    void realm.keys.prewarm().then((loaded) => {
      if (loaded || this.stopped) return;
      this.after(
        retryMs,
        () => this.inBackground(realm, Math.min(retryMs * 2, MAX_RETRY_MS)),
        false,
      );
    });
  }

  private async block(realms: readonly Realm[]): Promise<void> {
    const { prewarmTimeoutMs } = this.options;
    const deadline = Date.now() + prewarmTimeoutMs;
    const timeout = new Promise<void>((resolve) => this.after(prewarmTimeoutMs, resolve, true));
    await Promise.race([Promise.all(realms.map((realm) => this.until(realm, deadline))), timeout]);
    this.stop();
    const cold = realms.filter((realm) => realm.keys.state.keys === 0);
    if (cold.length === 0) return;
    // A fetch still in flight at the deadline has no error yet.
    const named = cold.map(
      ({ config, keys }) =>
        `realm '${config.id}' from ${displayUrl(config.endpoints.jwksUri)} (${keys.state.lastError ?? 'no answer'})`,
    );
    const several = cold.length > 1;
    throw new VoxKeyJwksError(
      `VoxKeyModule: 'prewarm' is 'block' and the key set${several ? 's' : ''} of ${named.join(' and ')} ${several ? 'were' : 'was'} not loaded within 'prewarmTimeoutMs' (${prewarmTimeoutMs} ms); use 'background' to start without waiting`,
      { reason: cold[0].keys.state.lastError },
    );
  }

  /** Tries again after each failure, while the deadline allows. */
  private async until(realm: Realm, deadline: number): Promise<void> {
    while (!this.stopped && !(await realm.keys.prewarm())) {
      const wait = Math.min(FIRST_RETRY_MS, deadline - Date.now());
      if (wait <= 0) return;
      await new Promise<void>((resolve) => this.after(wait, resolve, true));
    }
  }

  private stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * A timer cleared at shutdown. Start-up waits on its own (`hold`: the process must not exit
   * while `app.init()` waits for nothing else); background retries never keep the process alive.
   */
  private after(ms: number, run: () => void, hold: boolean): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    if (!hold) timer.unref();
    this.timers.add(timer);
  }
}
