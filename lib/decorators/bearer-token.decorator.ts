import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { transportOf } from '../transports/transports.js';

/**
 * The raw access token of an authenticated request, read from its `Authorization` header by the
 * same reader `VoxKeyAuthGuard` uses, so on a route the guard protects it is the token the guard
 * validated. Undefined while `req.user` is not set (on `@Public()` routes, for instance). Use it
 * rather than slicing the header yourself, e.g. to revoke the caller's own token.
 *
 * @example
 * @Post('logout') logout(@BearerToken() token: string) { return this.revocation.revoke(token); }
 */
export const BearerToken: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string | undefined =>
    transportOf(context)?.getToken(context),
);
