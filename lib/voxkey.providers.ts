import type { Provider } from '@nestjs/common';
import { VoxKeyConfigError } from './errors/voxkey.errors.js';
import type { ResolvedVoxKeyOptions } from './interfaces/resolved-voxkey-options.interface.js';
import type {
  VoxKeyAlgorithm,
  VoxKeyContextsOptions,
  VoxKeyModuleOptions,
} from './interfaces/voxkey-module-options.interface.js';
import {
  SUPPORTED_ALGORITHMS,
  VOXKEY_MODULE_OPTIONS,
  VOXKEY_RESOLVED_OPTIONS,
} from './voxkey.constants.js';
import { getVoxKeyEndpoints } from './realm/realm-endpoints.js';
import type { VoxKeyStore } from './store/voxkey-store.interface.js';
import { resolveScopes } from './utils/scopes.util.js';
import { isValidResourceIndicator } from './realm/realm-endpoints.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Printable ASCII without quote and backslash: safe inside a quoted WWW-Authenticate parameter.
const HEADER_SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;

const DEFAULT_ALGORITHMS: VoxKeyAlgorithm[] = ['RS256'];

/** Every numeric option: its default (none for `maxTokenAge`) and the range accepted. */
const NUMERIC_OPTIONS = {
  clockTolerance: { fallback: 5, min: 0, max: 300 },
  maxTokenAge: { fallback: undefined, min: 1, max: 31_536_000 },
  'jwks.cacheMaxAgeMs': { fallback: 10 * 60_000, min: 1_000, max: 86_400_000 },
  'jwks.cooldownMs': { fallback: 30_000, min: 0, max: 3_600_000 },
  'jwks.timeoutMs': { fallback: 5_000, min: 100, max: 60_000 },
  'tokenCache.maxEntries': { fallback: 10_000, min: 0, max: 10_000_000 },
  requestTimeoutMs: { fallback: 5_000, min: 100, max: 60_000 },
  'introspection.cacheTtlMs': { fallback: 30_000, min: 0, max: 3_600_000 },
  'introspection.inactiveCacheTtlMs': { fallback: 3_000, min: 0, max: 10_000 },
  'introspection.cacheMaxEntries': { fallback: 10_000, min: 1, max: 10_000_000 },
  'm2m.refreshMarginMs': { fallback: 60_000, min: 0, max: 3_600_000 },
  'm2m.maxRetries': { fallback: 3, min: 0, max: 10 },
} as const;

type NumericOption = keyof typeof NUMERIC_OPTIONS;
type NumericValues = {
  [K in NumericOption]: (typeof NUMERIC_OPTIONS)[K]['fallback'] extends number
    ? number
    : number | undefined;
};

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

function requireString(value: unknown, name: string, purpose: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new VoxKeyConfigError(`'${name}' is required ${purpose}`);
  }
  return value.trim();
}

function resolveOrigin(value: unknown): string {
  const domain = requireString(
    value,
    'domain',
    'to locate the realm, e.g. https://your-domain.com',
  );
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(domain) ? domain : `https://${domain}`);
  } catch {
    throw new VoxKeyConfigError(`'domain' is not a valid URL or host name`);
  }
  if (url.username || url.password || url.search || url.hash || url.pathname !== '/') {
    throw new VoxKeyConfigError(
      `'domain' must be an origin such as https://your-domain.com, without path, query or credentials`,
    );
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new VoxKeyConfigError(
      `'domain' must use https; plain http is only allowed for loopback hosts (localhost, 127.0.0.1, [::1])`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new VoxKeyConfigError(`'domain' must use https`);
  }
  return url.origin;
}

function resolveAudiences(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || value === undefined || value === null || value === '') {
    throw new VoxKeyConfigError(`'audience' is required to check the 'aud' claim`);
  }
  return list.map((audience, index) => {
    const name = Array.isArray(value) ? `audience[${index}]` : 'audience';
    const text = requireString(audience, name, `to check the 'aud' claim`);
    if (!HEADER_SAFE.test(text)) {
      throw new VoxKeyConfigError(
        `'${name}' must be printable ASCII without quotes or backslashes`,
      );
    }
    return text;
  });
}

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

/**
 * Validates the module options and fills in defaults. Throws a `VoxKeyConfigError`
 * naming the offending option, so a misconfigured application fails at startup.
 */
export function resolveVoxKeyOptions(options: VoxKeyModuleOptions): ResolvedVoxKeyOptions {
  if (typeof options !== 'object' || options === null) {
    throw new VoxKeyConfigError('options are required: { domain, realm, audience }');
  }
  const origin = resolveOrigin(options.domain);
  const realm = requireString(options.realm, 'realm', 'to build the issuer URL');
  if (!UUID.test(realm)) throw new VoxKeyConfigError(`'realm' must be the realm UUID`);
  const audiences = resolveAudiences(options.audience);
  const jwks = options.jwks ?? {};
  if (typeof jwks !== 'object') throw new VoxKeyConfigError(`'jwks' must be an object`);
  if (options.requireTokenType !== undefined && typeof options.requireTokenType !== 'boolean') {
    throw new VoxKeyConfigError(`'requireTokenType' must be a boolean`);
  }
  const clientId = optionalString(options.clientId, 'clientId');
  const clientSecret = optionalString(options.clientSecret, 'clientSecret');
  if (clientSecret !== undefined && clientId === undefined) {
    throw new VoxKeyConfigError(`'clientId' is required when 'clientSecret' is set`);
  }
  const validation = oneOf(
    options.validation,
    'validation',
    ['jwt', 'introspection'] as const,
    'jwt',
  );
  if (validation === 'introspection' && (clientId === undefined || clientSecret === undefined)) {
    throw new VoxKeyConfigError(
      `'clientId' and 'clientSecret' are required when 'validation' is 'introspection'`,
    );
  }
  // Option groups must be objects before their numbers are read.
  optionalObject(options.introspection, 'introspection');
  optionalObject(options.tokenCache, 'tokenCache');
  const m2m = optionalObject(options.m2m, 'm2m');
  const m2mClientId = optionalString(m2m.clientId, 'm2m.clientId');
  const m2mClientSecret = optionalString(m2m.clientSecret, 'm2m.clientSecret');
  if ((m2mClientId === undefined) !== (m2mClientSecret === undefined)) {
    throw new VoxKeyConfigError(`'m2m.clientId' and 'm2m.clientSecret' go together`);
  }
  if (m2m.resource !== undefined && !isValidResourceIndicator(m2m.resource)) {
    throw new VoxKeyConfigError(
      `'m2m.resource' must be an absolute URI without a fragment (RFC 8707 §2)`,
    );
  }
  const n = resolveNumbers(options);
  const endpoints = getVoxKeyEndpoints(origin, realm);
  return Object.freeze({
    endpoints: Object.freeze(endpoints),
    audiences: Object.freeze(audiences),
    algorithms: Object.freeze(resolveAlgorithms(options.algorithms)),
    clockTolerance: n.clockTolerance,
    maxTokenAge: n.maxTokenAge,
    requireTokenType: options.requireTokenType ?? false,
    jwks: Object.freeze({
      cacheMaxAgeMs: n['jwks.cacheMaxAgeMs'],
      cooldownMs: n['jwks.cooldownMs'],
      timeoutMs: n['jwks.timeoutMs'],
    }),
    tokenCache: Object.freeze({
      maxEntries: n['tokenCache.maxEntries'],
    }),
    clientId,
    clientSecret,
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
      clientId: m2mClientId ?? clientId,
      clientSecret: m2mClientSecret ?? clientSecret,
      scope: Object.freeze(resolveScopes(m2m.scope, 'm2m.scope')),
      resource: m2m.resource,
      refreshMarginMs: n['m2m.refreshMarginMs'],
      maxRetries: n['m2m.maxRetries'],
    }),
    store: resolveStore(options.store),
    encryptionKey: resolveEncryptionKey(options.encryptionKey),
    contexts: resolveContexts(options.contexts),
    audit: oneOf(options.audit, 'audit', ['warn', 'strict', 'off'] as const, 'warn'),
    challengeRealm: audiences[0],
  });
}

/** Provides the resolved options once, at startup, to every other provider. */
export const resolvedOptionsProvider: Provider = {
  provide: VOXKEY_RESOLVED_OPTIONS,
  useFactory: resolveVoxKeyOptions,
  inject: [VOXKEY_MODULE_OPTIONS],
};
