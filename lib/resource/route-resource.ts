import type { BearerChallenge } from '../errors/bearer.exceptions.js';
import type {
  ResolvedResource,
  ResolvedVoxKeyOptions,
} from '../interfaces/resolved-voxkey-options.interface.js';
import type { RouteMetadata } from '../utils/route-metadata.util.js';

/** The configured resource `@Resource()` names: by its URI, or by its `id`. */
export function namedResource(
  name: string,
  resources: readonly ResolvedResource[],
): ResolvedResource | undefined {
  return resources.find((r) => r.resource === name) ?? resources.find((r) => r.id === name);
}

/**
 * The protected resource a route (or a gateway's connection) is under: the one `@Resource()`
 * names, else the only one configured, else none (several resources and no decorator).
 */
export function routeResource(
  route: Pick<RouteMetadata, 'resource'>,
  options: ResolvedVoxKeyOptions,
): ResolvedResource | undefined {
  const { resources } = options;
  if (route.resource !== undefined) return namedResource(route.resource, resources);
  return resources.length === 1 ? resources[0] : undefined;
}

/** Every scope a route names, `@Scopes()` and `@AnyScope()` together, space-separated. */
export function routeScopes(route: RouteMetadata): string {
  return [...new Set([...route.scopes.all, ...route.scopes.anyOf.flat()])].join(' ');
}

/**
 * The challenge of a route's refusals: the realm alone, or on a route of a protected resource
 * also its metadata URL and the scopes the route needs; with DPoP on, the proof algorithms.
 * @see RFC 9728 §5.1, RFC 9449 §7.1
 */
export function routeChallenge(
  route: RouteMetadata,
  options: ResolvedVoxKeyOptions,
): string | BearerChallenge {
  const resource = routeResource(route, options);
  const dpop = options.dpop.mode === 'off' ? {} : { dpopAlgs: options.dpop.algorithms.join(' ') };
  if (resource === undefined) {
    return dpop.dpopAlgs === undefined
      ? options.challengeRealm
      : { realm: options.challengeRealm, ...dpop };
  }
  const scope = routeScopes(route);
  return {
    realm: options.challengeRealm,
    resourceMetadata: resource.metadataUrl,
    ...(scope === '' ? {} : { scope }),
    ...dpop,
  };
}

/** Whether the `aud` claim (a string or a list) names `resource`, exactly. @see RFC 8707 §2 */
export function audienceIncludes(aud: unknown, resource: string): boolean {
  return Array.isArray(aud) ? aud.includes(resource) : aud === resource;
}
