import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import type {
  ResolvedRealm,
  ResolvedVoxKeyOptions,
} from '../interfaces/resolved-voxkey-options.interface.js';
import { JwksKeyProvider } from '../keys/jwks-key.provider.js';
import { unverifiedPayload } from '../token/jws-header.js';
import { ProvidedRealms } from './provided-realms.js';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';

/** A realm the API accepts tokens from: its settings and its own key set. */
export interface Realm {
  readonly config: ResolvedRealm;
  readonly keys: JwksKeyProvider;
}

/**
 * The realms of the module, found by the exact `iss` of a token (no normalisation: case, port
 * and trailing slash count) or by their id. A lookup of an issuer that is not configured
 * allocates nothing and fetches nothing.
 */
@Injectable()
export class RealmRegistry implements OnModuleInit {
  private readonly logger = new Logger('VoxKeyRealms');
  private readonly byIssuer = new Map<string, Realm>();
  private readonly byId = new Map<string, Realm>();
  /** Realms `realmsProvider` added, when there is one. */
  readonly provided: ProvidedRealms<Realm> | undefined;

  constructor(@Inject(VOXKEY_RESOLVED_OPTIONS) private readonly options: ResolvedVoxKeyOptions) {
    const create = (config: ResolvedRealm): Realm => ({
      config,
      keys: new JwksKeyProvider(
        config.endpoints.jwksUri,
        options.jwks,
        config.id,
        options.multiRealm,
      ),
    });
    for (const config of options.realms) {
      const realm = create(config);
      this.byId.set(config.id, realm);
      for (const issuer of config.issuers) this.byIssuer.set(issuer, realm);
    }
    this.provided =
      options.realmsProvider &&
      new ProvidedRealms(
        options.realmsProvider,
        options.realmCache,
        create,
        (config) => {
          if (this.byId.has(config.id)) return `the id '${config.id}' of a configured realm`;
          const clash = options.realms.find(
            (r) => r.endpoints.jwksUri === config.endpoints.jwksUri,
          );
          return clash && `the key set URL of realm '${clash.id}'`;
        },
        options.requestTimeoutMs,
      );
  }

  /** Once the application's logger is in place. */
  onModuleInit(): void {
    this.warnAboutSharedAudiences();
  }

  /**
   * The realm whose tokens carry `iss`, if it is one of the configured issuers or a realm
   * `realmsProvider` already added (no call).
   */
  forIssuer(iss: unknown): Realm | undefined {
    if (typeof iss !== 'string') return undefined;
    return this.byIssuer.get(iss) ?? this.provided?.peek(iss);
  }

  /**
   * As `forIssuer`, and else asks `realmsProvider` (within its bounds) when `iss` has the form of
   * one of its realms.
   * @throws VoxKeyJwksError when the provider failed
   */
  async resolveIssuer(iss: unknown): Promise<Realm | undefined> {
    const realm = this.forIssuer(iss);
    if (realm !== undefined || this.provided === undefined || typeof iss !== 'string') return realm;
    return this.provided.load(iss);
  }

  /**
   * For the debug log of a refused issuer (never sent to clients): what the token said,
   * truncated and escaped, what is accepted, and the options that set it.
   */
  explainIssuer(iss: unknown): string {
    const got =
      typeof iss === 'string'
        ? JSON.stringify(iss.length > 200 ? `${iss.slice(0, 200)}…` : iss).replace(
            /[^\x20-\x7e]/g,
            (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
          )
        : typeof iss;
    return `got ${got}; ${this.accepted}`;
  }

  /** What `explainIssuer` says is accepted, composed once. */
  private get accepted(): string {
    if (this.acceptedText === undefined) {
      const issuers = [...this.byIssuer.keys()];
      const listed = issuers
        .slice(0, 3)
        .map((issuer) => `"${issuer}"`)
        .join(', ');
      const more = issuers.length > 3 ? ` and ${issuers.length - 3} more` : '';
      const options = this.options.multiRealm
        ? `'realms' (domain, realm, issuerAliases)`
        : `'domain', 'realm' and 'issuerAliases'`;
      const provided = this.options.realmsProvider ? `, or an issuer of 'realmsProvider'` : '';
      this.acceptedText = `accepted ${listed}${more}${provided} (set by ${options})`;
    }
    return this.acceptedText;
  }

  private acceptedText: string | undefined;

  /** The realm with this id, if configured (or added by `realmsProvider` and still kept). */
  get(id: string): Realm | undefined {
    return this.byId.get(id) ?? this.provided?.byId(id);
  }

  /**
   * The realm a service call is for: the one named, or the only one of the single-realm options.
   * @throws VoxKeyConfigError when the id is unknown, or when several realms are configured and
   * none is named
   */
  require(id: string | undefined, purpose: string): Realm {
    if (id === undefined) {
      if (!this.options.multiRealm) return this.byId.values().next().value as Realm;
      throw new VoxKeyConfigError(
        `several realms are configured: name the realm ${purpose} (for example forRealm('${this.options.realms[0].id}'))`,
      );
    }
    const realm = this.get(id);
    if (realm === undefined) throw new VoxKeyConfigError(`no realm '${id}' is configured`);
    return realm;
  }

  /**
   * The realm a service call about `token` goes to: the one named; else the only one; else, for a
   * JWT, the realm its (unverified) `iss` names. That choice only picks which realm is asked, with
   * that realm's own credentials: a forged `iss` sends a token to the realm it names, never a
   * secret to another realm.
   * @throws VoxKeyConfigError when no realm can be told
   */
  forToken(token: string, id: string | undefined, purpose: string): Realm {
    if (id !== undefined || !this.options.multiRealm) return this.require(id, purpose);
    const realm = this.forIssuer(unverifiedPayload(token)?.iss);
    return realm ?? this.require(undefined, purpose);
  }

  /** Every configured realm. */
  all(): Realm[] {
    return [...this.byId.values()];
  }

  /** Whether `key` is still published by the realm `id` (false for a realm no longer known). */
  isCurrent(id: string | undefined, key: KeyObject): boolean {
    const realm = id === undefined ? undefined : this.get(id);
    return realm !== undefined && realm.keys.isCurrent(key);
  }

  /** Seconds a client should wait before retrying after a key set failure. */
  get retryAfterSeconds(): number {
    // Every realm's key set has the same settings.
    return (this.byId.values().next().value as Realm).keys.retryAfterSeconds;
  }

  private warnAboutSharedAudiences(): void {
    if (!this.options.multiRealm || this.options.tenancy.resolve !== undefined) return;
    const byAudience = new Map<string, string[]>();
    for (const realm of this.options.realms) {
      for (const audience of realm.audiences) {
        byAudience.set(audience, [...(byAudience.get(audience) ?? []), realm.id]);
      }
    }
    for (const [audience, ids] of byAudience) {
      if (ids.length < 2) continue;
      this.logger.warn(
        `Realms ${ids.map((id) => `'${id}'`).join(', ')} share the audience '${audience}' and no 'tenancy.resolve' binds requests to realms: a token of any of them is accepted on every route without @Realm()`,
      );
    }
  }
}
