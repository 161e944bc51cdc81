import { Logger } from '@nestjs/common';
import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import type { ResolvedResource } from '../interfaces/resolved-voxkey-options.interface.js';
import type {
  VoxKeyModuleOptions,
  VoxKeyResourceOptions,
} from '../interfaces/voxkey-module-options.interface.js';
import { isLoopback } from '../realm/realm-options.js';
import { resolveScopes } from '../utils/scopes.util.js';

/** The well-known suffix inserted between the host and the path of a resource. @see RFC 9728 §3 */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

// Printable ASCII without quote and backslash: safe inside a quoted WWW-Authenticate parameter,
// and as an exact `aud` string.
const HEADER_SAFE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
// Path characters both Express's and Fastify's routers take literally.
const ROUTABLE_PATH = /^[A-Za-z0-9._~%/-]*$/;

/** The document fields `resources[i]` may set, by option name, as RFC 9728 §2 spells them. */
const STRING_FIELDS = {
  resourceName: 'resource_name',
  resourceDocumentation: 'resource_documentation',
  resourcePolicyUri: 'resource_policy_uri',
  resourceTosUri: 'resource_tos_uri',
} as const;

/** Fields the library writes itself, which `extra` cannot replace. */
const RESERVED_FIELDS = new Set([
  'resource',
  'authorization_servers',
  'bearer_methods_supported',
  'scopes_supported',
  'dpop_signing_alg_values_supported',
  'dpop_bound_access_tokens_required',
  'tls_client_certificate_bound_access_tokens',
  ...Object.values(STRING_FIELDS),
]);

const logger = new Logger('VoxKeyModule');

/**
 * The metadata URL of `resource`: the well-known suffix inserted between its origin and its path
 * (the slash after the host dropped), with its query kept.
 * @see RFC 9728 §3.1
 */
export function metadataUrlOf(url: URL): { path: string; query: string; url: string } {
  const path = PROTECTED_RESOURCE_WELL_KNOWN + (url.pathname === '/' ? '' : url.pathname);
  return { path, query: url.search, url: `${url.origin}${path}${url.search}` };
}

function resolveResource(given: unknown, name: string): ResolvedResource {
  const entry = (
    typeof given === 'string' ? { resource: given } : given
  ) as Partial<VoxKeyResourceOptions> | null;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new VoxKeyConfigError(
      `'${name}' must be an object such as { resource: 'https://api.example.com/mcp' }`,
    );
  }
  const field = typeof given === 'string' ? name : `${name}.resource`;
  const resource = entry.resource;
  if (typeof resource !== 'string' || !HEADER_SAFE.test(resource)) {
    throw new VoxKeyConfigError(
      `'${field}' must be an absolute URI of printable ASCII without spaces, quotes or backslashes`,
    );
  }
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    throw new VoxKeyConfigError(
      `'${field}' must be an absolute URI such as https://api.example.com/mcp`,
    );
  }
  if (resource.includes('#')) {
    throw new VoxKeyConfigError(`'${field}' must not have a fragment (RFC 9728 §1.2, RFC 8707 §2)`);
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new VoxKeyConfigError(
      `'${field}' must use https; plain http is only allowed for loopback hosts (localhost, 127.0.0.1, [::1])`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new VoxKeyConfigError(`'${field}' must use https`);
  }
  if (url.username || url.password) {
    throw new VoxKeyConfigError(`'${field}' must not hold credentials`);
  }
  // Compared byte for byte with `aud`: a form `URL` would rewrite (case, default port, dot
  // segments) would never match what the realm issues for the canonical URI.
  const canonical =
    url.pathname === '/' && !resource.endsWith('/') ? url.href.slice(0, -1) : url.href;
  if (canonical !== resource) {
    throw new VoxKeyConfigError(`'${field}' must be written in canonical form: '${canonical}'`);
  }
  if (!ROUTABLE_PATH.test(url.pathname)) {
    throw new VoxKeyConfigError(
      `'${field}' must have a path of letters, digits and '-', '.', '_', '~', '%', '/' to serve its metadata`,
    );
  }
  if (url.search) {
    logger.warn(
      `'${field}' has a query, which a resource identifier SHOULD NOT have (RFC 9728 §1.2)`,
    );
  }
  if (url.pathname !== '/' && url.pathname.endsWith('/')) {
    logger.warn(
      `'${field}' ends with a slash: tokens must name it with the slash, exactly (clients often drop it)`,
    );
  }
  const fields: Record<string, unknown> = {};
  for (const [option, wire] of Object.entries(STRING_FIELDS)) {
    const value = entry[option as keyof typeof STRING_FIELDS];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') {
      throw new VoxKeyConfigError(`'${name}.${option}' must be a non-empty string`);
    }
    fields[wire] = value;
  }
  if (entry.extra !== undefined) {
    if (typeof entry.extra !== 'object' || entry.extra === null || Array.isArray(entry.extra)) {
      throw new VoxKeyConfigError(`'${name}.extra' must be an object`);
    }
    for (const [key, value] of Object.entries(entry.extra)) {
      if (RESERVED_FIELDS.has(key)) {
        throw new VoxKeyConfigError(`'${name}.extra' cannot set '${key}'`);
      }
      fields[key] = value;
    }
  }
  const scopesSupported =
    entry.scopesSupported === undefined
      ? undefined
      : Object.freeze(resolveScopes(entry.scopesSupported, `${name}.scopesSupported`));
  const id = entry.id;
  if (
    id !== undefined &&
    (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id))
  ) {
    throw new VoxKeyConfigError(
      `'${name}.id' must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  const metadata = metadataUrlOf(url);
  return Object.freeze({
    resource,
    id,
    metadataUrl: metadata.url,
    metadataPath: metadata.path,
    metadataQuery: metadata.query,
    scopesSupported,
    fields: Object.freeze(fields),
  });
}

/** `resource` or `resources`, validated (errors name the option); empty without either. */
export function resolveResources(options: VoxKeyModuleOptions): readonly ResolvedResource[] {
  if (options.resource !== undefined && options.resources !== undefined) {
    throw new VoxKeyConfigError(
      `'resource' and 'resources' are exclusive: list every resource in 'resources'`,
    );
  }
  let resources: ResolvedResource[] = [];
  if (options.resource !== undefined) {
    if (typeof options.resource !== 'string') {
      throw new VoxKeyConfigError(`'resource' must be a string; use 'resources' for more settings`);
    }
    resources = [resolveResource(options.resource, 'resource')];
  } else if (options.resources !== undefined) {
    if (!Array.isArray(options.resources) || options.resources.length === 0) {
      throw new VoxKeyConfigError(`'resources' must be a non-empty list of { resource, ... }`);
    }
    resources = options.resources.map((entry, i) => resolveResource(entry, `resources[${i}]`));
  }
  const ids = new Set<string>();
  for (const { id } of resources) {
    if (id === undefined) continue;
    if (ids.has(id)) throw new VoxKeyConfigError(`'resources': the id '${id}' is used twice`);
    ids.add(id);
  }
  const seen = new Map<string, string>();
  for (const { resource, metadataPath, metadataQuery } of resources) {
    const where = metadataPath + metadataQuery;
    const earlier = seen.get(where);
    if (earlier !== undefined) {
      throw new VoxKeyConfigError(
        `'resources': '${earlier}' and '${resource}' would share the metadata path '${where}'`,
      );
    }
    seen.set(where, resource);
  }
  return Object.freeze(resources);
}
