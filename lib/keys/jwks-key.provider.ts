import { Logger } from '@nestjs/common';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { JwksClient } from 'jwks-rsa';
import {
  VoxKeyJwksError,
  VoxKeyTokenError,
  type VoxKeyTransportError,
} from '../errors/voxkey.errors.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { listening, publish } from '../events/event-channels.js';
import type { VoxKeyJwksFetchEvent } from '../events/voxkey-event.interface.js';
import { createJwksFetcher, jwksErrorCode } from './jwks.fetcher.js';

/** A verification key of the realm, imported once. */
interface RealmKey {
  readonly kid: string | undefined;
  /** The JWK's own `alg`, when it declares one. */
  readonly alg: string | undefined;
  readonly key: KeyObject;
}

const MIN_RSA_BITS = 2048;
const EC_CURVES: Readonly<Record<string, string>> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};
/** After a failed fetch, the next attempt waits at most this long (or the cool-down, if shorter). */
const RETRY_AFTER_FAILURE_MS = 1_000;

/** A stable text form of a public key, to recognise it across fetches. */
function exportOf(key: KeyObject): string {
  return key.export({ format: 'der', type: 'spki' }).toString('base64');
}

/** Whether a key may verify a signature made with `alg`. @see RFC 7518 §3.3-3.5, RFC 8037 §3.1 */
function keyFits(candidate: RealmKey, alg: string): boolean {
  if (candidate.alg !== undefined && candidate.alg !== alg) return false;
  const { key } = candidate;
  if (alg.startsWith('RS')) return key.asymmetricKeyType === 'rsa';
  if (alg.startsWith('PS'))
    return key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss';
  if (alg.startsWith('ES')) {
    return (
      key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === EC_CURVES[alg]
    );
  }
  if (alg === 'EdDSA')
    return key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448';
  return false;
}

/** How a key set is fetched and kept. */
export type JwksSettings = ResolvedVoxKeyOptions['jwks'];

/** Why a fetch of the key set starts. */
export type JwksFetchTrigger = VoxKeyJwksFetchEvent['trigger'];

/** What a provider holds, read without fetching anything (for the health indicator). */
export interface JwksState {
  /** Usable keys loaded (0 until a fetch succeeds; kept while later fetches fail). */
  readonly keys: number;
  /** When the keys were last fetched successfully (ms since the epoch), if ever. */
  readonly fetchedAt: number | undefined;
  /** Whether the last fetch failed. */
  readonly lastFetchFailed: boolean;
  /** Why the last fetch failed, as a code; undefined after a success. */
  readonly lastError: VoxKeyTransportError | undefined;
  /** Whether a token with an unknown `kid` would be refused a fetch now (cool-down, back-off). */
  readonly coolingDown: boolean;
}

/**
 * One realm's signing keys, fetched through jwks-rsa and kept as `KeyObject`s. Each realm has its
 * own provider, with its own fetch state: a flood of unknown `kid`s against one realm never
 * delays another, and a key of one realm never verifies another's tokens.
 *
 * - Keys are refreshed after `jwks.cacheMaxAgeMs` in the background; until the refresh
 *   succeeds the keys already fetched keep working, even while the endpoint is down.
 * - A token with an unknown `kid` causes at most one fetch per `jwks.cooldownMs`, shared by
 *   every concurrent request (one in-flight promise).
 * - Keys marked `use: enc`, symmetric keys and RSA keys under 2048 bits are never kept.
 */
export class JwksKeyProvider {
  private readonly logger: Logger;
  private readonly client: JwksClient;
  private keys: readonly RealmKey[] = [];
  private byKid = new Map<string, RealmKey>();
  /** The key objects of the current set, to tell whether a key is still published. */
  private current = new WeakSet<KeyObject>();
  private fetchedAt = 0;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private lastAttemptFailed = false;
  private lastError: VoxKeyTransportError | undefined;
  private inFlight: Promise<boolean> | undefined;

  /**
   * @param jwksUri where the key set is fetched (from configuration only, never from a token)
   * @param settings the module's `jwks` options
   * @param realmId the realm's id, named in its events, and in log lines with `multiRealm`
   * @param multiRealm whether the module has several realms
   */
  constructor(
    jwksUri: string,
    private readonly settings: JwksSettings,
    private readonly realmId: string,
    multiRealm = false,
  ) {
    this.logger = new Logger(multiRealm ? `VoxKeyJwks:${realmId}` : 'VoxKeyJwks');
    this.client = new JwksClient({
      jwksUri,
      cache: false,
      rateLimit: false,
      timeout: settings.timeoutMs,
      fetcher: createJwksFetcher(settings.timeoutMs),
    });
  }

  /** Seconds a client should wait before retrying after a key set failure. */
  get retryAfterSeconds(): number {
    return Math.min(this.settings.cooldownMs, RETRY_AFTER_FAILURE_MS) / 1000;
  }

  /** The provider's state, from memory: never causes a fetch. */
  get state(): JwksState {
    return {
      keys: this.keys.length,
      fetchedAt: this.keys.length > 0 ? this.fetchedAt : undefined,
      lastFetchFailed: this.lastAttemptFailed,
      lastError: this.lastError,
      coolingDown: !this.mayFetch(Date.now(), this.settings.cooldownMs),
    };
  }

  /**
   * Fetches the key set ahead of the first request, as a request would: it joins a fetch in
   * flight and respects the back-off after a failure. Resolves to whether keys are loaded.
   */
  async prewarm(): Promise<boolean> {
    // A request may have loaded the keys since the pre-warm was scheduled.
    if (this.keys.length > 0) return true;
    if (this.inFlight || this.mayFetch(Date.now())) await this.refresh('prewarm');
    return this.keys.length > 0;
  }

  /**
   * Returns the key that verifies a token signed with `alg` under `kid`.
   * @throws VoxKeyTokenError when no such key exists or it does not fit `alg` (401)
   * @throws VoxKeyJwksError when the key set cannot be fetched and no key can be found (503)
   */
  async getKey(kid: string | undefined, alg: string): Promise<KeyObject> {
    const now = Date.now();
    if (this.keys.length === 0) {
      await this.refreshOrThrow(now);
    } else if (now - this.fetchedAt >= this.settings.cacheMaxAgeMs && this.mayFetch(now)) {
      void this.refresh();
    }

    let found = this.find(kid);
    if (!found && kid !== undefined) {
      if (this.inFlight || this.mayFetch(now, this.settings.cooldownMs)) {
        await this.refresh('unknown_kid');
        found = this.find(kid);
      } else {
        this.cooledDown();
      }
      // While the endpoint is failing, an unknown kid may be a key we cannot fetch yet: 503, so
      // clients retry rather than drop a good token. 401 only after a successful fetch.
      if (!found && this.lastAttemptFailed) {
        throw new VoxKeyJwksError('key set unavailable for an unknown kid');
      }
    }
    if (!found) {
      throw new VoxKeyTokenError(
        'unknown_key',
        kid === undefined ? 'no kid and the key set has several keys' : 'kid not in the key set',
      );
    }
    if (!keyFits(found, alg)) {
      throw new VoxKeyTokenError(
        'key_mismatch',
        'key type, curve or alg does not fit the token alg',
      );
    }
    return found.key;
  }

  /** Whether `key` is still in the realm's published key set (it may have been withdrawn). */
  isCurrent(key: KeyObject): boolean {
    // Cache hits never call getKey(): keep the set fresh from here too, in the background.
    const now = Date.now();
    if (
      now - this.fetchedAt >= this.settings.cacheMaxAgeMs &&
      !this.inFlight &&
      this.mayFetch(now)
    ) {
      void this.refresh();
    }
    return this.current.has(key);
  }

  private find(kid: string | undefined): RealmKey | undefined {
    if (kid !== undefined) return this.byKid.get(kid);
    return this.keys.length === 1 ? this.keys[0] : undefined;
  }

  /** Whether a new fetch may start now, given the last attempt and its outcome. */
  private mayFetch(now: number, cooldownMs = 0): boolean {
    const wait = this.lastAttemptFailed
      ? Math.min(this.settings.cooldownMs, RETRY_AFTER_FAILURE_MS)
      : cooldownMs;
    return now - this.attemptedAt >= wait;
  }

  private async refreshOrThrow(now: number): Promise<void> {
    if (!this.inFlight && !this.mayFetch(now)) {
      this.cooledDown();
      throw new VoxKeyJwksError('key set unavailable (last fetch failed)');
    }
    if (!(await this.refresh('unknown_kid')) && this.keys.length === 0) {
      throw new VoxKeyJwksError('key set unavailable');
    }
  }

  /**
   * Fetches the key set once for every concurrent caller; resolves to whether it succeeded. The
   * fetch's event names the `trigger` of the caller that started it.
   */
  private refresh(trigger: JwksFetchTrigger = 'refresh'): Promise<boolean> {
    this.inFlight ??= this.load(trigger).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async load(trigger: JwksFetchTrigger): Promise<boolean> {
    this.attemptedAt = Date.now();
    const started = listening('jwks') ? performance.now() : undefined;
    try {
      const signingKeys = await this.client.getSigningKeys();
      const keys: RealmKey[] = [];
      const byKid = new Map<string, RealmKey>();
      for (const signingKey of signingKeys) {
        const key = createPublicKey(signingKey.getPublicKey());
        const bits = key.asymmetricKeyDetails?.modulusLength;
        if (bits !== undefined && bits < MIN_RSA_BITS) {
          this.logger.warn(
            `Ignoring JWKS key with a ${bits}-bit RSA modulus (minimum ${MIN_RSA_BITS})`,
          );
          continue;
        }
        const realmKey: RealmKey = { kid: signingKey.kid, alg: signingKey.alg, key };
        if (realmKey.kid !== undefined) {
          if (byKid.has(realmKey.kid)) {
            this.logger.warn('Ignoring a JWKS key whose kid repeats an earlier key');
            continue;
          }
          byKid.set(realmKey.kid, realmKey);
        }
        keys.push(realmKey);
      }
      if (keys.length === 0) throw new VoxKeyJwksError('JWKS holds no usable signing key');
      // A key present in the new set keeps its KeyObject, so tokens verified with it stay valid.
      const previous = new Map(this.keys.map((k) => [`${k.kid}|${k.alg}|${exportOf(k.key)}`, k]));
      for (let i = 0; i < keys.length; i++) {
        const same = previous.get(`${keys[i].kid}|${keys[i].alg}|${exportOf(keys[i].key)}`);
        if (same) {
          keys[i] = same;
          if (same.kid !== undefined) byKid.set(same.kid, same);
        }
      }
      this.keys = keys;
      this.byKid = byKid;
      this.current = new WeakSet(keys.map((k) => k.key));
      this.fetchedAt = Date.now();
      if (this.lastAttemptFailed) this.logger.log('JWKS endpoint reachable again');
      this.lastAttemptFailed = false;
      if (started !== undefined) {
        this.fetched(trigger, started, { outcome: 'ok', keys: keys.length });
      }
      this.lastError = undefined;
      return true;
    } catch (error) {
      if (started !== undefined) {
        this.fetched(trigger, started, { outcome: 'error', error: jwksErrorCode(error) });
      }
      if (!this.lastAttemptFailed) {
        this.logger.warn(
          `Cannot refresh the realm's keys: ${error instanceof Error ? error.message : 'unknown error'}` +
            (this.keys.length > 0 ? '; keeping the keys already fetched' : ''),
        );
      }
      this.lastAttemptFailed = true;
      // jwks-rsa's own errors and unreadable keys are answers that hold no usable key set.
      this.lastError = (error instanceof VoxKeyJwksError && error.reason) || 'invalid_response';
      return false;
    }
  }

  /** Publishes `jwks.fetch` for a fetch timed from `started`. */
  private fetched(
    trigger: JwksFetchTrigger,
    started: number,
    result: Pick<VoxKeyJwksFetchEvent, 'outcome' | 'keys' | 'error'>,
  ): void {
    publish({
      type: 'jwks.fetch',
      realm: this.realmId,
      trigger,
      ...result,
      durationMs: performance.now() - started,
    });
  }

  /** Publishes `jwks.cooldown`, when someone listens: a token refused without a fetch. */
  private cooledDown(): void {
    if (listening('jwks')) publish({ type: 'jwks.cooldown', realm: this.realmId });
  }
}
