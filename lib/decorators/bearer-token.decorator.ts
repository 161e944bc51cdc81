import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { getExtractedToken } from '../jwt/request-token.js';
import { httpRequestOf } from '../utils/http-context.js';

/**
 * The raw access token of the request, exactly as `VoxKeyAuthGuard` extracted and validated it
 * (undefined on routes the guard did not run for). Use it rather than slicing the
 * `Authorization` header yourself, e.g. to revoke the caller's own token.
 *
 * @example
 * @Post('logout') logout(@BearerToken() token: string) { return this.revocation.revoke(token); }
 */
export const BearerToken: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string | undefined =>
    getExtractedToken(httpRequestOf<object>(context)),
);
