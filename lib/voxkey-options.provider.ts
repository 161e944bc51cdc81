import type { Provider } from '@nestjs/common';
import { VoxKeyConfigError } from './errors/voxkey.error.js';
import type { ResolvedVoxKeyOptions } from './interfaces/resolved-voxkey-options.interface.js';
import type {
  VoxKeyAlgorithm,
  VoxKeyModuleOptions,
} from './interfaces/voxkey-module-options.interface.js';
import {
  SUPPORTED_ALGORITHMS,
  VOXKEY_MODULE_OPTIONS,
  VOXKEY_RESOLVED_OPTIONS,
} from './voxkey.constants.js';
import { getVoxKeyEndpoints } from './voxkey-endpoints.js';
import type { VoxKeyStore } from './store/voxkey-store.interface.js';
import { isValidScopeToken } from './utils/scopes.util.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Printable ASCII without quote and backslash: safe inside a quoted WWW-Authenticate parameter.
const HEADER_SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;

const DEFAULTS = {
  algorithms: ['RS256'] as VoxKeyAlgorithm[],
  clockTolerance: 5,
  jwks: { cacheMaxAgeMs: 10 * 60_000, cooldownMs: 30_000, timeoutMs: 5_000 },
  requestTimeoutMs: 5_000,
  introspection: { cacheTtlMs: 30_000, inactiveCacheTtlMs: 3_000, cacheMaxEntries: 10_000 },
  m2m: { refreshMarginMs: 60_000, maxRetries: 3 },
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
  if (value === undefined) return DEFAULTS.algorithms;
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

function resolveNumber(
  value: unknown,
  name: string,
  fallback: number,
  { min, max }: { min: number; max: number },
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new VoxKeyConfigError(`'${name}' must be a number from ${min} to ${max}`);
  }
  return value;
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

/** A scope list from a list or a space-delimited string, each a valid scope token. */
export function resolveScopes(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? value.split(' ').filter(Boolean) : value;
  if (!Array.isArray(list) || !list.every(isValidScopeToken)) {
    throw new VoxKeyConfigError(
      `'${name}' must be scope tokens, as a list or a space-delimited string`,
    );
  }
  return [...new Set(list)].sort();
}

/**
 * Whether a resource indicator is an absolute URI without a fragment, as RFC 8707 §2 requires.
 */
export function isValidResourceIndicator(value: unknown): value is string {
  if (typeof value !== 'string' || value.includes('#')) return false;
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
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
  const introspection = optionalObject(options.introspection, 'introspection');
  const tokenCache = optionalObject(options.tokenCache, 'tokenCache');
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
  const endpoints = getVoxKeyEndpoints(origin, realm);
  return Object.freeze({
    endpoints: Object.freeze(endpoints),
    audiences: Object.freeze(audiences),
    algorithms: Object.freeze(resolveAlgorithms(options.algorithms)),
    clockTolerance: resolveNumber(
      options.clockTolerance,
      'clockTolerance',
      DEFAULTS.clockTolerance,
      {
        min: 0,
        max: 300,
      },
    ),
    maxTokenAge:
      options.maxTokenAge === undefined
        ? undefined
        : resolveNumber(options.maxTokenAge, 'maxTokenAge', 0, { min: 1, max: 31_536_000 }),
    requireTokenType: options.requireTokenType ?? false,
    jwks: Object.freeze({
      cacheMaxAgeMs: resolveNumber(
        jwks.cacheMaxAgeMs,
        'jwks.cacheMaxAgeMs',
        DEFAULTS.jwks.cacheMaxAgeMs,
        { min: 1_000, max: 86_400_000 },
      ),
      cooldownMs: resolveNumber(jwks.cooldownMs, 'jwks.cooldownMs', DEFAULTS.jwks.cooldownMs, {
        min: 0,
        max: 3_600_000,
      }),
      timeoutMs: resolveNumber(jwks.timeoutMs, 'jwks.timeoutMs', DEFAULTS.jwks.timeoutMs, {
        min: 100,
        max: 60_000,
      }),
    }),
    tokenCache: Object.freeze({
      maxEntries: resolveNumber(tokenCache.maxEntries, 'tokenCache.maxEntries', 10_000, {
        min: 0,
        max: 10_000_000,
      }),
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
    requestTimeoutMs: resolveNumber(
      options.requestTimeoutMs,
      'requestTimeoutMs',
      DEFAULTS.requestTimeoutMs,
      { min: 100, max: 60_000 },
    ),
    introspection: Object.freeze({
      cacheTtlMs: resolveNumber(
        introspection.cacheTtlMs,
        'introspection.cacheTtlMs',
        DEFAULTS.introspection.cacheTtlMs,
        { min: 0, max: 3_600_000 },
      ),
      inactiveCacheTtlMs: resolveNumber(
        introspection.inactiveCacheTtlMs,
        'introspection.inactiveCacheTtlMs',
        DEFAULTS.introspection.inactiveCacheTtlMs,
        { min: 0, max: 10_000 },
      ),
      cacheMaxEntries: resolveNumber(
        introspection.cacheMaxEntries,
        'introspection.cacheMaxEntries',
        DEFAULTS.introspection.cacheMaxEntries,
        { min: 1, max: 10_000_000 },
      ),
    }),
    m2m: Object.freeze({
      clientId: m2mClientId ?? clientId,
      clientSecret: m2mClientSecret ?? clientSecret,
      scope: Object.freeze(resolveScopes(m2m.scope, 'm2m.scope')),
      resource: m2m.resource,
      refreshMarginMs: resolveNumber(
        m2m.refreshMarginMs,
        'm2m.refreshMarginMs',
        DEFAULTS.m2m.refreshMarginMs,
        { min: 0, max: 3_600_000 },
      ),
      maxRetries: resolveNumber(m2m.maxRetries, 'm2m.maxRetries', DEFAULTS.m2m.maxRetries, {
        min: 0,
        max: 10,
      }),
    }),
    store: resolveStore(options.store),
    encryptionKey: resolveEncryptionKey(options.encryptionKey),
    challengeRealm: audiences[0],
  });
}

/** Provides the resolved options once, at startup, to every other provider. */
export const resolvedOptionsProvider: Provider = {
  provide: VOXKEY_RESOLVED_OPTIONS,
  useFactory: resolveVoxKeyOptions,
  inject: [VOXKEY_MODULE_OPTIONS],
};
