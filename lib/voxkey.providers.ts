import type { Provider } from '@nestjs/common';
import { VoxKeyConfigError } from './errors/voxkey.errors.js';
import type { ResolvedVoxKeyOptions } from './interfaces/resolved-voxkey-options.interface.js';
import type {
  VoxKeyAlgorithm,
  VoxKeyContextsOptions,
  VoxKeyModuleOptions,
  VoxKeyTokenLocationOptions,
} from './interfaces/voxkey-module-options.interface.js';
import {
  SUPPORTED_ALGORITHMS,
  VOXKEY_MODULE_OPTIONS,
  VOXKEY_RESOLVED_OPTIONS,
} from './voxkey.constants.js';
import { moduleOrigin, resolveRealms, resolveRealmsProvider } from './realm/realm-options.js';
import { resolveResources } from './resource/resource-options.js';
import { resolveDpop } from './dpop/dpop-options.js';
import { resolveMtls } from './mtls/mtls-options.js';
import { resolveAudit } from './audit/audit-options.js';
import type { VoxKeyStore } from './store/voxkey-store.interface.js';

const DEFAULT_ALGORITHMS: VoxKeyAlgorithm[] = ['RS256'];

/** Every numeric option: its default (none for `maxTokenAge`) and the range accepted. */
const NUMERIC_OPTIONS = {
  clockTolerance: { fallback: 5, min: 0, max: 300 },
  maxTokenAge: { fallback: undefined, min: 1, max: 31_536_000 },
  'jwks.cacheMaxAgeMs': { fallback: 10 * 60_000, min: 1_000, max: 86_400_000 },
  'jwks.cooldownMs': { fallback: 30_000, min: 0, max: 3_600_000 },
  'jwks.timeoutMs': { fallback: 5_000, min: 100, max: 60_000 },
  prewarmTimeoutMs: { fallback: 5_000, min: 100, max: 300_000 },
  'tokenCache.maxEntries': { fallback: 10_000, min: 0, max: 10_000_000 },
  requestTimeoutMs: { fallback: 5_000, min: 100, max: 60_000 },
  'introspection.cacheTtlMs': { fallback: 30_000, min: 0, max: 3_600_000 },
  'introspection.inactiveCacheTtlMs': { fallback: 3_000, min: 0, max: 10_000 },
  'introspection.cacheMaxEntries': { fallback: 10_000, min: 1, max: 10_000_000 },
  'm2m.refreshMarginMs': { fallback: 60_000, min: 0, max: 3_600_000 },
  'm2m.maxRetries': { fallback: 3, min: 0, max: 10 },
  'realmCache.maxEntries': { fallback: 100, min: 1, max: 100_000 },
  'realmCache.idleTtlMs': { fallback: 3_600_000, min: 1_000, max: 604_800_000 },
  'realmCache.negativeTtlMs': { fallback: 60_000, min: 0, max: 3_600_000 },
  'realmCache.negativeMaxEntries': { fallback: 1_000, min: 1, max: 1_000_000 },
  'realmCache.providerRatePerSec': { fallback: 20, min: 1, max: 10_000 },
  'resourceMetadata.maxAgeSec': { fallback: 3600, min: 0, max: 86_400 },
} as const;

type NumericOption = keyof typeof NUMERIC_OPTIONS;
type NumericValues = {
  [K in NumericOption]: (typeof NUMERIC_OPTIONS)[K]['fallback'] extends number
    ? number
    : number | undefined;
};

function resolveAlgorithms(value: unknown): VoxKeyAlgorithm[] {
  if (value === undefined) return DEFAULT_ALGORITHMS;
  if (!Array.isArray(value) || value.length === 0) {
    throw new VoxKeyConfigError(`'algorithms' must be a non-empty list such as ['RS256']`);
  }
  for (const alg of value) {
    if (typeof alg !== 'string') throw new VoxKeyConfigError(`'algorithms' must contain strings`);
    if (/^HS/i.test(alg) || alg.toLowerCase() === 'none') {
      throw new VoxKeyConfigError(
        `'algorithms' must not contain '${alg}': HMAC and 'none' are never accepted for access tokens (RFC 8725 §3.1)`,
      );
    }
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new VoxKeyConfigError(
        `'algorithms' contains '${alg}'; supported: ${SUPPORTED_ALGORITHMS.join(', ')}`,
      );
    }
  }
  return [...new Set(value as VoxKeyAlgorithm[])];
}

/**
 * Reads every numeric option of {@link NUMERIC_OPTIONS} (`'jwks.timeoutMs'` is `options.jwks.timeoutMs`;
 * the groups were checked to be objects), each a finite number in its range, or its default.
 */
function resolveNumbers(options: VoxKeyModuleOptions): NumericValues {
  const values: Partial<Record<NumericOption, number | undefined>> = {};
  for (const [name, { fallback, min, max }] of Object.entries(NUMERIC_OPTIONS)) {
    const [group, field] = name.includes('.') ? name.split('.') : [undefined, name];
    const holder = (group === undefined ? options : options[group as keyof VoxKeyModuleOptions]) as
      Record<string, unknown> | undefined;
    const value = holder?.[field];
    if (
      value !== undefined &&
      (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    ) {
      throw new VoxKeyConfigError(`'${name}' must be a number from ${min} to ${max}`);
    }
    values[name as NumericOption] = (value as number | undefined) ?? fallback;
  }
  return values as NumericValues;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new VoxKeyConfigError(`'${name}' must be a non-empty string`);
  }
  return value;
}

function optionalObject<T extends object>(value: T | undefined, name: string): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VoxKeyConfigError(`'${name}' must be an object`);
  }
  return value;
}

function oneOf<T extends string>(
  value: unknown,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new VoxKeyConfigError(
      `'${name}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`,
    );
  }
  return value as T;
}

function resolveStore(value: unknown): VoxKeyStore | undefined {
  if (value === undefined) return undefined;
  const store = value as Partial<VoxKeyStore> | null;
  const methods = ['get', 'set', 'delete', 'setIfAbsent'] as const;
  if (
    typeof store !== 'object' ||
    store === null ||
    methods.some((m) => typeof store[m] !== 'function')
  ) {
    throw new VoxKeyConfigError(`'store' must implement get, set, delete and setIfAbsent`);
  }
  return store as VoxKeyStore;
}

function resolveEncryptionKey(value: unknown): Buffer | undefined {
  if (value === undefined) return undefined;
  let key: Buffer | undefined;
  if (Buffer.isBuffer(value)) key = value;
  else if (typeof value === 'string') {
    key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  }
  if (key?.length !== 32) {
    throw new VoxKeyConfigError(
      `'encryptionKey' must be 32 bytes: a Buffer, 64 hex digits or base64 (e.g. openssl rand -base64 32)`,
    );
  }
  return Buffer.from(key);
}

function optionalBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new VoxKeyConfigError(`'${name}' must be a boolean`);
  return value;
}

/** One context's setting: `false`, or its settings (`true` and absent mean the defaults). */
function contextSettings<T extends object>(
  value: boolean | T | undefined,
  name: string,
): T | false {
  if (value === false) return false;
  if (value === undefined || value === true) return {} as T;
  return optionalObject(value, name) as T;
}

function resolveContexts(
  value: VoxKeyContextsOptions | undefined,
): ResolvedVoxKeyOptions['contexts'] {
  const contexts = optionalObject(value, 'contexts');
  const graphql = contextSettings(contexts.graphql, 'contexts.graphql');
  const ws = contextSettings(contexts.ws, 'contexts.ws');
  const rpc = contextSettings(contexts.rpc, 'contexts.rpc');
  if (rpc && rpc.getToken !== undefined && typeof rpc.getToken !== 'function') {
    throw new VoxKeyConfigError(`'contexts.rpc.getToken' must be a function`);
  }
  return Object.freeze({
    graphql: graphql && {
      connectionParamsKey: optionalString(
        graphql.connectionParamsKey,
        'contexts.graphql.connectionParamsKey',
      ),
      allowAnonymousConnections: optionalBoolean(
        graphql.allowAnonymousConnections,
        'contexts.graphql.allowAnonymousConnections',
        false,
      ),
      closeOnExpiry: optionalBoolean(graphql.closeOnExpiry, 'contexts.graphql.closeOnExpiry', true),
    },
    ws: ws && {
      allowQueryToken: optionalBoolean(ws.allowQueryToken, 'contexts.ws.allowQueryToken', false),
      closeOnExpiry: optionalBoolean(ws.closeOnExpiry, 'contexts.ws.closeOnExpiry', true),
    },
    rpc: rpc && { getToken: rpc.getToken },
  });
}

/** An RFC 9110 token: what cookie names (RFC 6265 §4.1.1) and header names are made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Headers `tokenLocation.csrf.header` cannot name: a cross-site page sends them without a
 * preflight (the CORS-safelisted ones), or the browser or a proxy adds them itself (client hints,
 * `priority`, `via`, `x-forwarded-*`, ...); and `authorization`, which would put a second token
 * method on every request.
 */
const UNPROTECTIVE_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-ch',
  'accept-charset',
  'accept-encoding',
  'accept-language',
  'authorization',
  'connection',
  'content-language',
  'content-length',
  'content-type',
  'cookie',
  'cache-control',
  'device-memory',
  'dnt',
  'downlink',
  'dpr',
  'ect',
  'forwarded',
  'host',
  'origin',
  'pragma',
  'priority',
  'range',
  'referer',
  'rtt',
  'save-data',
  'te',
  'upgrade-insecure-requests',
  'user-agent',
  'via',
  'viewport-width',
  'width',
]);

type ResolvedTokenLocation = ResolvedVoxKeyOptions['tokenLocation'];

function resolveCsrf(value: unknown): NonNullable<ResolvedTokenLocation['cookie']>['csrf'] {
  const csrf = optionalObject(value as object, 'tokenLocation.csrf') as {
    origins?: unknown;
    header?: unknown;
  };
  if ((csrf.origins === undefined) === (csrf.header === undefined)) {
    throw new VoxKeyConfigError(
      `'tokenLocation.csrf' must be { origins: [...] } or { header: '...' }, one of the two`,
    );
  }
  if (csrf.header !== undefined) {
    const header = typeof csrf.header === 'string' ? csrf.header.toLowerCase() : '';
    if (!TOKEN.test(header)) {
      throw new VoxKeyConfigError(`'tokenLocation.csrf.header' must be a header name`);
    }
    if (
      UNPROTECTIVE_HEADERS.has(header) ||
      header.startsWith('sec-') ||
      header.startsWith('proxy-') ||
      header.startsWith('x-forwarded-')
    ) {
      throw new VoxKeyConfigError(
        `'tokenLocation.csrf.header' cannot be '${header}': browsers send it cross-site without a preflight; use a custom header such as 'x-requested-with'`,
      );
    }
    return Object.freeze({ header });
  }
  if (!Array.isArray(csrf.origins) || csrf.origins.length === 0) {
    throw new VoxKeyConfigError(
      `'tokenLocation.csrf.origins' must be a non-empty list such as ['https://app.example.com']`,
    );
  }
  for (const origin of csrf.origins as unknown[]) {
    let serialized: string | undefined;
    try {
      serialized = typeof origin === 'string' ? new URL(origin).origin : undefined;
    } catch {
      serialized = undefined;
    }
    if (serialized === undefined || serialized === 'null' || serialized !== origin) {
      throw new VoxKeyConfigError(
        `'tokenLocation.csrf.origins' must hold origins as browsers send them, scheme, host and port only (such as 'https://app.example.com'): ${JSON.stringify(origin)}${serialized && serialized !== 'null' ? ` would be '${serialized}'` : ''}`,
      );
    }
  }
  return Object.freeze({ origins: Object.freeze([...new Set(csrf.origins as string[])]) });
}

/** `tokenLocation`: the header unless `false`; a cookie only with a CSRF defence. */
function resolveTokenLocation(
  value: VoxKeyTokenLocationOptions | undefined,
): ResolvedTokenLocation {
  const location = optionalObject(value, 'tokenLocation');
  const header = optionalBoolean(location.header, 'tokenLocation.header', true);
  const name = optionalString(location.cookie, 'tokenLocation.cookie');
  if (name !== undefined && !TOKEN.test(name)) {
    throw new VoxKeyConfigError(
      `'tokenLocation.cookie' must be a cookie name (letters, digits and !#$%&'*+-.^_\`|~)`,
    );
  }
  if (name === undefined) {
    if (location.csrf !== undefined) {
      throw new VoxKeyConfigError(`'tokenLocation.csrf' applies only with 'tokenLocation.cookie'`);
    }
    if (!header) {
      throw new VoxKeyConfigError(
        `'tokenLocation.header' is false and no 'tokenLocation.cookie' is named: no token could be read`,
      );
    }
    return Object.freeze({ header, cookie: undefined });
  }
  if (location.csrf === undefined) {
    throw new VoxKeyConfigError(
      `'tokenLocation.cookie' needs a CSRF defence: 'tokenLocation.csrf' ({ origins: ['https://app.example.com'] } or { header: 'x-requested-with' })`,
    );
  }
  return Object.freeze({
    header,
    cookie: Object.freeze({ name, csrf: resolveCsrf(location.csrf) }),
  });
}

/**
 * Validates the module options and fills in defaults. Throws a `VoxKeyConfigError`
 * naming the offending option, so a misconfigured application fails at startup.
 */
export function resolveVoxKeyOptions(options: VoxKeyModuleOptions): ResolvedVoxKeyOptions {
  if (typeof options !== 'object' || options === null) {
    throw new VoxKeyConfigError('options are required: { domain, realm, audience }');
  }
  const resources = resolveResources(options);
  const resourceUris = resources.map((r) => r.resource);
  const { realms, multiRealm } = resolveRealms(options, resourceUris);
  for (const uri of resourceUris) {
    if (!realms.some((realm) => realm.audiences.includes(uri))) {
      throw new VoxKeyConfigError(
        `'${options.resource === undefined ? 'resources' : 'resource'}' '${uri}' is not an 'audience' of any realm: no token could be accepted on its routes; add it to 'audience' or leave 'audience' unset`,
      );
    }
  }
  const jwks = options.jwks ?? {};
  if (typeof jwks !== 'object') throw new VoxKeyConfigError(`'jwks' must be an object`);
  if (options.requireTokenType !== undefined && typeof options.requireTokenType !== 'boolean') {
    throw new VoxKeyConfigError(`'requireTokenType' must be a boolean`);
  }
  const validation = oneOf(
    options.validation,
    'validation',
    ['jwt', 'introspection'] as const,
    'jwt',
  );
  const uncredentialed = realms.find(
    (r) => r.clientId === undefined || r.clientSecret === undefined,
  );
  if (validation === 'introspection' && uncredentialed) {
    throw new VoxKeyConfigError(
      multiRealm
        ? `realm '${uncredentialed.id}' needs 'clientId' and 'clientSecret' when 'validation' is 'introspection'`
        : `'clientId' and 'clientSecret' are required when 'validation' is 'introspection'`,
    );
  }
  // Option groups must be objects before their numbers are read.
  optionalObject(options.introspection, 'introspection');
  optionalObject(options.tokenCache, 'tokenCache');
  optionalObject(options.m2m, 'm2m');
  optionalObject(options.realmCache, 'realmCache');
  optionalObject(options.resourceMetadata, 'resourceMetadata');
  const tenancy = optionalObject(options.tenancy, 'tenancy');
  if (tenancy.resolve !== undefined && typeof tenancy.resolve !== 'function') {
    throw new VoxKeyConfigError(`'tenancy.resolve' must be a function`);
  }
  const n = resolveNumbers(options);
  const algorithms = Object.freeze(resolveAlgorithms(options.algorithms));
  return Object.freeze({
    realms,
    multiRealm,
    tenancy: Object.freeze({ resolve: tenancy.resolve }),
    realmsProvider: resolveRealmsProvider(options, resourceUris),
    realmCache: Object.freeze({
      maxEntries: n['realmCache.maxEntries'],
      idleTtlMs: n['realmCache.idleTtlMs'],
      negativeTtlMs: n['realmCache.negativeTtlMs'],
      negativeMaxEntries: n['realmCache.negativeMaxEntries'],
      providerRatePerSec: n['realmCache.providerRatePerSec'],
    }),
    tokenLocation: resolveTokenLocation(options.tokenLocation),
    algorithms,
    clockTolerance: n.clockTolerance,
    maxTokenAge: n.maxTokenAge,
    requireTokenType: options.requireTokenType ?? false,
    jwks: Object.freeze({
      cacheMaxAgeMs: n['jwks.cacheMaxAgeMs'],
      cooldownMs: n['jwks.cooldownMs'],
      timeoutMs: n['jwks.timeoutMs'],
    }),
    prewarm: oneOf(
      options.prewarm,
      'prewarm',
      ['background', 'block', 'off'] as const,
      'background',
    ),
    prewarmTimeoutMs: n.prewarmTimeoutMs,
    tokenCache: Object.freeze({
      maxEntries: n['tokenCache.maxEntries'],
    }),
    validation,
    clientAuthMethod: oneOf(
      options.clientAuthMethod,
      'clientAuthMethod',
      ['client_secret_basic', 'client_secret_post'] as const,
      'client_secret_basic',
    ),
    requestTimeoutMs: n.requestTimeoutMs,
    introspection: Object.freeze({
      cacheTtlMs: n['introspection.cacheTtlMs'],
      inactiveCacheTtlMs: n['introspection.inactiveCacheTtlMs'],
      cacheMaxEntries: n['introspection.cacheMaxEntries'],
    }),
    m2m: Object.freeze({
      refreshMarginMs: n['m2m.refreshMarginMs'],
      maxRetries: n['m2m.maxRetries'],
    }),
    store: resolveStore(options.store),
    encryptionKey: resolveEncryptionKey(options.encryptionKey),
    contexts: resolveContexts(options.contexts),
    audit: resolveAudit(options.audit),
    // With several realms the challenge must not name one tenant's audience to every client.
    challengeRealm: multiRealm ? moduleOrigin(options) : realms[0].audiences[0],
    resources,
    resourceMetadata: Object.freeze({ maxAgeSec: n['resourceMetadata.maxAgeSec'] }),
    dpop: resolveDpop(options.dpop, resources),
    mtls: resolveMtls(options.mtls),
  });
}

/** Provides the resolved options once, at startup, to every other provider. */
export const resolvedOptionsProvider: Provider = {
  provide: VOXKEY_RESOLVED_OPTIONS,
  useFactory: resolveVoxKeyOptions,
  inject: [VOXKEY_MODULE_OPTIONS],
};
