import type { VoxKeyClaims } from './voxkey-claims.interface.js';

/**
 * Who called, as the MCP TypeScript SDK reads it from `req.auth` (its `AuthInfo`, which its
 * Streamable HTTP transport hands to tools as `extra.authInfo`). `VoxKeyAuthGuard` sets it on
 * every authenticated HTTP request, next to `req.user`, so an MCP server built with
 * `@modelcontextprotocol/sdk` behind the guard needs no SDK auth middleware. Declared here, with
 * the same shape, so the library does not depend on the SDK.
 *
 * `token` is the caller's access token, for this API only: never forward it to another service
 * (the MCP specification forbids token passthrough); get a token of your own with
 * `M2MTokenService.getToken({ resource })` instead.
 * @example
 * @Post('mcp')
 * handle(@Req() req: Request & { auth?: McpAuthInfo }) {
 *   return req.auth?.scopes;
 * }
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization
 */
export interface McpAuthInfo {
  /** The access token the request carried. Never forward it upstream. */
  token: string;
  /** The client the token was issued to: `client_id`, else `azp`, else `''`. */
  clientId: string;
  /** The scopes the token grants (`scope`, or `scp`). @see RFC 9068 §2.2.3 */
  scopes: string[];
  /** The token's `exp`, in seconds since the epoch. */
  expiresAt?: number;
  /**
   * On a route of a protected resource (`@Resource()`, or the only one of `resource`/`resources`),
   * that resource, which the token's `aud` names; elsewhere the first of the token's audiences
   * this API is configured to accept, as a URL when it is one.
   */
  resource?: URL;
  /** The verified claims and the id of the configured realm that issued the token. */
  extra: { claims: VoxKeyClaims; realm: string };
}
