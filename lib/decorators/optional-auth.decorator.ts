import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import { authModeDecorator } from '../utils/route-metadata.util.js';

/** Options of `@OptionalAuth()`. */
export interface OptionalAuthOptions {
  /**
   * What a Bearer token that fails any check (expired, bad signature, wrong audience, revoked,
   * ...) does: `'reject'` refuses the call as a protected route would (401 `invalid_token`, 503
   * when the key set cannot be fetched); `'anonymous'` runs the handler without a user and, on
   * HTTP, adds `WWW-Authenticate: Bearer error="invalid_token"` to the response so that the
   * client knows to refresh. Malformed or ambiguous credentials are a 400 either way.
   * @default 'reject'
   * @see RFC 6750 §3
   */
  invalidToken?: 'reject' | 'anonymous';
}

/**
 * Authentication is optional on a handler or a whole controller: without Bearer credentials
 * (no `Authorization` header, or another scheme such as Basic) the handler runs with
 * `@VoxKeyUser()` undefined; with a valid token it runs with the token's claims, as on a
 * protected route. A token that is present but fails a check is refused (see `invalidToken`).
 * Scope requirements do not combine with it: `@Scopes()`, `@AnyScope()` or
 * `@RequireActiveToken()` on the same handler stops the application at start-up.
 *
 * @example
 * @OptionalAuth() @Get('feed') feed(@VoxKeyUser() user?: VoxKeyClaims) {
 *   return user ? this.posts.feedFor(user.sub) : this.posts.popular();
 * }
 * @publicApi
 */
export const OptionalAuth = ({
  invalidToken = 'reject',
}: OptionalAuthOptions = {}): MethodDecorator & ClassDecorator => {
  if (invalidToken !== 'reject' && invalidToken !== 'anonymous') {
    throw new VoxKeyConfigError(
      `@OptionalAuth(): 'invalidToken' must be 'reject' or 'anonymous', not ${JSON.stringify(invalidToken)}`,
    );
  }
  return authModeDecorator({ mode: 'optional', invalidToken });
};
