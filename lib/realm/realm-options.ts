import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import type { ResolvedRealm } from '../interfaces/resolved-voxkey-options.interface.js';
import type {
  VoxKeyModuleOptions,
  VoxKeyRealmOptions,
} from '../interfaces/voxkey-module-options.interface.js';
import { resolveScopes } from '../utils/scopes.util.js';
import { getVoxKeyEndpoints, isValidResourceIndicator } from './realm-endpoints.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Printable ASCII without quote and backslash: safe inside a quoted WWW-Authenticate parameter.
const HEADER_SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;
/** A realm id: what applications write in `@Realm()` and see in `VoxKeyClaims.realm`. */
const REALM_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The id of the one realm of the single-realm options. */
export const DEFAULT_REALM_ID = 'default';

/** Whether `hostname` (as `URL` gives it) is a loopback host. */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(value: unknown, name: string, purpose: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new VoxKeyConfigError(`'${name}' is required ${purpose}`);
  }
  return value.trim();
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new VoxKeyConfigError(`'${name}' must be a non-empty string`);
  }
  return value;
}

function resolveOrigin(value: unknown, name: string): string {
  const domain = requireString(value, name, 'to locate the realm, e.g. https://your-domain.com');
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(domain) ? domain : `https://${domain}`);
  } catch {
    throw new VoxKeyConfigError(`'${name}' is not a valid URL or host name`);
  }
  if (url.username || url.password || url.search || url.hash || url.pathname !== '/') {
    throw new VoxKeyConfigError(
      `'${name}' must be an origin such as https://your-domain.com, without path, query or credentials`,
    );
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new VoxKeyConfigError(
      `'${name}' must use https; plain http is only allowed for loopback hosts (localhost, 127.0.0.1, [::1])`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new VoxKeyConfigError(`'${name}' must use https`);
  }
  return url.origin;
}

/**
 * A back-channel URL (`backchannelUrl`, `jwksUri`): absolute, without credentials, query or
 * fragment; https, or plain http to loopback, or to any host with `allowInsecureBackchannel`.
 */
function resolveBackchannelUrl(
  value: unknown,
  name: string,
  allowInsecure: boolean,
): string | undefined {
  if (value === undefined) return undefined;
  const text = requireString(value, name, 'to be a URL');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new VoxKeyConfigError(`'${name}' must be an absolute URL`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new VoxKeyConfigError(`'${name}' must not hold credentials, a query or a fragment`);
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname) && !allowInsecure) {
    throw new VoxKeyConfigError(
      `'${name}' must use https; plain http to a host that is not loopback needs 'allowInsecureBackchannel: true'`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new VoxKeyConfigError(`'${name}' must use https`);
  }
  return url.href.replace(/\/+$/, '');
}

function resolveAudiences(value: unknown, name: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || value === undefined || value === null || value === '') {
    throw new VoxKeyConfigError(`'${name}' is required to check the 'aud' claim`);
  }
  return list.map((audience, index) => {
    const entry = Array.isArray(value) ? `${name}[${index}]` : name;
    const text = requireString(audience, entry, `to check the 'aud' claim`);
    if (!HEADER_SAFE.test(text)) {
      throw new VoxKeyConfigError(
        `'${entry}' must be printable ASCII without quotes or backslashes`,
      );
    }
    return text;
  });
}

function resolveAliases(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((alias) => typeof alias !== 'string' || alias === '')) {
    throw new VoxKeyConfigError(`'${name}' must be a list of exact issuer URLs`);
  }
  return value as string[];
}

/** What every realm takes from the module's options unless it says otherwise. */
interface RealmDefaults {
  domain: unknown;
  audience: unknown;
  backchannelUrl: unknown;
  jwksUri: unknown;
  allowInsecureBackchannel: boolean;
}

/** One realm's options (`prefix` names them in errors: `realms[1].`, or '' for the single realm). */
function resolveRealm(
  options: VoxKeyRealmOptions,
  prefix: string,
  defaults: RealmDefaults,
): ResolvedRealm {
  const id =
    prefix === ''
      ? DEFAULT_REALM_ID
      : requireString(options.id, `${prefix}id`, 'to name the realm');
  if (!REALM_ID.test(id)) {
    throw new VoxKeyConfigError(
      `'${prefix}id' must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  const domainName = options.domain === undefined ? 'domain' : `${prefix}domain`;
  const origin = resolveOrigin(options.domain ?? defaults.domain, domainName);
  const uuid = requireString(options.realm, `${prefix}realm`, 'to build the issuer URL');
  if (!UUID.test(uuid)) throw new VoxKeyConfigError(`'${prefix}realm' must be the realm UUID`);
  // An inherited audience is named where it was written; a missing one, on the realm lacking it.
  const audienceName =
    options.audience === undefined && defaults.audience !== undefined
      ? 'audience'
      : `${prefix}audience`;
  const audiences = resolveAudiences(options.audience ?? defaults.audience, audienceName);
  const allowInsecure = defaults.allowInsecureBackchannel;
  // A realm on a domain of its own does not inherit the module's back channel: its secret and
  // key set requests would go to another host.
  const inherited = options.domain === undefined ? defaults.backchannelUrl : undefined;
  const backchannelUrl = resolveBackchannelUrl(
    options.backchannelUrl ?? inherited,
    options.backchannelUrl === undefined ? 'backchannelUrl' : `${prefix}backchannelUrl`,
    allowInsecure,
  );
  const jwksUri = resolveBackchannelUrl(
    options.jwksUri ?? defaults.jwksUri,
    options.jwksUri === undefined ? 'jwksUri' : `${prefix}jwksUri`,
    allowInsecure,
  );
  const endpoints = getVoxKeyEndpoints(origin, uuid, { backchannelUrl, jwksUri });
  const clientId = optionalString(options.clientId, `${prefix}clientId`);
  const clientSecret = optionalString(options.clientSecret, `${prefix}clientSecret`);
  if (clientSecret !== undefined && clientId === undefined) {
    throw new VoxKeyConfigError(
      `'${prefix}clientId' is required when '${prefix}clientSecret' is set`,
    );
  }
  const m2m = options.m2m === undefined ? {} : options.m2m;
  if (!isObject(m2m)) {
    throw new VoxKeyConfigError(`'${prefix}m2m' must be an object`);
  }
  const m2mClientId = optionalString(m2m.clientId, `${prefix}m2m.clientId`);
  const m2mClientSecret = optionalString(m2m.clientSecret, `${prefix}m2m.clientSecret`);
  if ((m2mClientId === undefined) !== (m2mClientSecret === undefined)) {
    throw new VoxKeyConfigError(
      `'${prefix}m2m.clientId' and '${prefix}m2m.clientSecret' go together`,
    );
  }
  if (m2m.resource !== undefined && !isValidResourceIndicator(m2m.resource)) {
    throw new VoxKeyConfigError(
      `'${prefix}m2m.resource' must be an absolute URI without a fragment (RFC 8707 §2)`,
    );
  }
  const aliases = resolveAliases(options.issuerAliases, `${prefix}issuerAliases`);
  return Object.freeze({
    id,
    uuid: uuid.toLowerCase(),
    endpoints: Object.freeze(endpoints),
    issuers: Object.freeze([...new Set([endpoints.issuer, ...aliases])]),
    audiences: Object.freeze(audiences),
    clientId,
    clientSecret,
    m2m: Object.freeze({
      clientId: m2mClientId ?? clientId,
      clientSecret: m2mClientSecret ?? clientSecret,
      scope: Object.freeze(resolveScopes(m2m.scope, `${prefix}m2m.scope`)),
      resource: m2m.resource,
    }),
  });
}

/** Start-up errors for realms that would share an id, a UUID, an issuer or a key set. */
function assertDistinct(realms: readonly ResolvedRealm[]): void {
  const seen = new Map<string, string>();
  const claim = (what: string, value: string, id: string): void => {
    const earlier = seen.get(`${what}\n${value}`);
    if (earlier !== undefined) {
      throw new VoxKeyConfigError(
        `'realms': realms '${earlier}' and '${id}' have the same ${what}${what === 'id' ? '' : ` (${value})`}`,
      );
    }
    seen.set(`${what}\n${value}`, id);
  };
  for (const realm of realms) {
    claim('id', realm.id, realm.id);
    claim('realm UUID', realm.uuid, realm.id);
    for (const issuer of realm.issuers) claim('issuer', issuer, realm.id);
    // One key set per realm: a key fetched for one realm must never verify another's tokens.
    claim('JWKS URL', realm.endpoints.jwksUri, realm.id);
  }
}

/** The module's `audience`, else the protected resources' URIs (`resource`, `resources`). */
function defaultAudience(options: VoxKeyModuleOptions, resourceUris: readonly string[]): unknown {
  return options.audience ?? (resourceUris.length > 0 ? [...resourceUris] : undefined);
}

/** The origin of the module's own `domain` (each realm may have another). */
export function moduleOrigin(options: VoxKeyModuleOptions): string {
  return resolveOrigin(options.domain, 'domain');
}

/** What `realmsProvider` needs resolved at start-up. */
export interface ResolvedRealmsProvider {
  /** The module's domain: only an `iss` of the form `<origin>/oauth2/<lower-case UUID>` is looked up. */
  readonly origin: string;
  /** The application's provider. */
  readonly provide: NonNullable<VoxKeyModuleOptions['realmsProvider']>;
  /**
   * Validates what the provider returned for `uuid`, as a realm of `realms` is validated (it
   * takes the module's domain, audience and back channel when it names none).
   */
  readonly resolve: (given: VoxKeyRealmOptions, uuid: string) => ResolvedRealm;
}

/** The module's `realmsProvider`, checked, or undefined without one. */
export function resolveRealmsProvider(
  options: VoxKeyModuleOptions,
  resourceUris: readonly string[] = [],
): ResolvedRealmsProvider | undefined {
  const provide = options.realmsProvider;
  if (provide === undefined) return undefined;
  if (typeof provide !== 'function') {
    throw new VoxKeyConfigError(`'realmsProvider' must be a function of the realm UUID`);
  }
  if (options.realms === undefined) {
    throw new VoxKeyConfigError(
      `'realmsProvider' needs 'realms', with at least one realm configured there`,
    );
  }
  const defaults: RealmDefaults = {
    domain: options.domain,
    audience: defaultAudience(options, resourceUris),
    backchannelUrl: options.backchannelUrl,
    jwksUri: undefined,
    allowInsecureBackchannel: options.allowInsecureBackchannel ?? false,
  };
  return Object.freeze({
    origin: moduleOrigin(options),
    provide,
    resolve: (given: VoxKeyRealmOptions, uuid: string) =>
      resolveRealm(given, `realmsProvider('${uuid}').`, defaults),
  });
}

/**
 * The realms of the module's options: the single realm of `domain`/`realm`/`audience` (id
 * `'default'`), or each of `realms`, every one validated with errors naming the option.
 */
export function resolveRealms(
  options: VoxKeyModuleOptions,
  resourceUris: readonly string[] = [],
): {
  realms: readonly ResolvedRealm[];
  multiRealm: boolean;
} {
  const allowInsecureBackchannel = options.allowInsecureBackchannel ?? false;
  if (typeof allowInsecureBackchannel !== 'boolean') {
    throw new VoxKeyConfigError(`'allowInsecureBackchannel' must be a boolean`);
  }
  const defaults: RealmDefaults = {
    domain: options.domain,
    audience: defaultAudience(options, resourceUris),
    backchannelUrl: options.backchannelUrl,
    jwksUri: options.jwksUri,
    allowInsecureBackchannel,
  };
  if (options.realms === undefined) {
    const realm = resolveRealm(
      {
        id: DEFAULT_REALM_ID,
        realm: options.realm as string,
        issuerAliases: options.issuerAliases,
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        m2m: options.m2m,
      },
      '',
      defaults,
    );
    return { realms: Object.freeze([realm]), multiRealm: false };
  }
  if (!Array.isArray(options.realms) || options.realms.length === 0) {
    throw new VoxKeyConfigError(`'realms' must be a non-empty list of { id, realm, audience }`);
  }
  for (const name of ['realm', 'issuerAliases', 'clientId', 'clientSecret'] as const) {
    if (options[name] !== undefined) {
      throw new VoxKeyConfigError(
        `'${name}' and 'realms' are exclusive: give each realm its own '${name}' in 'realms'`,
      );
    }
  }
  for (const name of ['clientId', 'clientSecret'] as const) {
    if (options.m2m?.[name] !== undefined) {
      throw new VoxKeyConfigError(
        `'m2m.${name}' and 'realms' are exclusive: a realm's credentials go in 'realms[i].m2m'`,
      );
    }
  }
  // A shared jwksUri would give every realm the same key set.
  if (options.jwksUri !== undefined) {
    throw new VoxKeyConfigError(`'jwksUri' and 'realms' are exclusive: set 'realms[i].jwksUri'`);
  }
  const realms = options.realms.map((realm, index) => {
    if (typeof realm !== 'object' || realm === null) {
      throw new VoxKeyConfigError(`'realms[${index}]' must be an object`);
    }
    // The module-wide M2M defaults that are not credentials apply to every realm (a realm's `m2m`
    // that is not an object is left for resolveRealm to refuse, not spread).
    const m2m =
      realm.m2m === undefined || isObject(realm.m2m)
        ? { scope: options.m2m?.scope, resource: options.m2m?.resource, ...realm.m2m }
        : realm.m2m;
    return resolveRealm({ ...realm, m2m }, `realms[${index}].`, defaults);
  });
  assertDistinct(realms);
  return { realms: Object.freeze(realms), multiRealm: true };
}
