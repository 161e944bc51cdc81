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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Printable ASCII without quote and backslash: safe inside a quoted WWW-Authenticate parameter.
const HEADER_SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;

const DEFAULTS = {
  algorithms: ['RS256'] as VoxKeyAlgorithm[],
  clockTolerance: 5,
  jwks: { cacheMaxAgeMs: 10 * 60_000, cooldownMs: 30_000, timeoutMs: 5_000 },
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
    if (alg === 'EdDSA' || alg === 'Ed25519') {
      throw new VoxKeyConfigError(
        `'algorithms': '${alg}' is not supported yet (passport-jwt verifies with jsonwebtoken, which lacks EdDSA)`,
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
    clientId,
    clientSecret,
    challengeRealm: audiences[0],
  });
}

/** Provides the resolved options once, at startup, to every other provider. */
export const resolvedOptionsProvider: Provider = {
  provide: VOXKEY_RESOLVED_OPTIONS,
  useFactory: resolveVoxKeyOptions,
  inject: [VOXKEY_MODULE_OPTIONS],
};
