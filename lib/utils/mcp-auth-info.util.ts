import type { McpAuthInfo } from '../interfaces/mcp-auth-info.interface.js';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';
import { grantedScopes } from './scopes.util.js';

/** A request the guard writes `auth` on (on Fastify, also its Node request, `raw`). */
export interface McpAuthHolder {
  auth?: McpAuthInfo;
}

/** The first of the token's audiences that is one of the realm's configured audiences, as a URL. */
function matchedResource(aud: unknown, audiences: readonly string[] | undefined): URL | undefined {
  if (audiences === undefined) return undefined;
  const list = Array.isArray(aud) ? aud : [aud];
  const matched = list.find(
    (value): value is string => typeof value === 'string' && audiences.includes(value),
  );
  return matched !== undefined && URL.canParse(matched) ? new URL(matched) : undefined;
}

/**
 * The SDK's `AuthInfo` of a verified token. Its `resource` is `routeResource`, the protected
 * resource of the route (whose URI the guard checked `aud` names), when the route is under one;
 * else the first of the token's audiences that is one of the realm's `audiences`.
 */
export function mcpAuthInfo(
  token: string,
  claims: VoxKeyClaims,
  realm: string,
  audiences: readonly string[] | undefined,
  routeResource?: string,
): McpAuthInfo {
  const clientId = claims.client_id ?? claims.azp;
  // A configured resource is an absolute URI, checked at start-up.
  const resource =
    routeResource === undefined ? matchedResource(claims.aud, audiences) : new URL(routeResource);
  return {
    token,
    clientId: typeof clientId === 'string' ? clientId : '',
    scopes: [...grantedScopes(claims)],
    ...(typeof claims.exp === 'number' ? { expiresAt: claims.exp } : {}),
    ...(resource ? { resource } : {}),
    extra: { claims, realm },
  };
}

/**
 * Sets (or, with no `auth`, clears) `req.auth`, whoever set it before: the guard is the authority
 * on who called. On Fastify also on `req.raw`, the Node request the SDK's transport is handed.
 */
export function setMcpAuth(request: McpAuthHolder, auth: McpAuthInfo | undefined): void {
  if (auth !== undefined || request.auth !== undefined) request.auth = auth;
  const raw = (request as { raw?: McpAuthHolder }).raw;
  if (raw !== null && typeof raw === 'object' && raw !== (request as unknown)) {
    if (auth !== undefined || raw.auth !== undefined) raw.auth = auth;
  }
}
