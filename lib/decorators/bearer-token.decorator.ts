import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { bearerTokenFromRequest, type RequestWithHeaders } from '../jwt/bearer-token.parser.js';

/**
 * The raw access token of the request, exactly as `VoxKeyAuthGuard` read and validated it
 * (undefined on routes where no VoxKey user was set, public routes included). Use it rather
 * than slicing the `Authorization` header yourself, e.g. to revoke the caller's own token.
 *
 * @example
 * @Post('logout') logout(@BearerToken() token: string) { return this.revocation.revoke(token); }
 */
export const BearerToken: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string | undefined => {
    const request = context.switchToHttp().getRequest<RequestWithHeaders & { user?: unknown }>();
    // The guard's own reader: the same header gives the same token it validated.
    return request.user ? (bearerTokenFromRequest(request) ?? undefined) : undefined;
  },
);
