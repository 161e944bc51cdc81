import { SetMetadata } from '@nestjs/common';
import { REQUIRE_ACTIVE_METADATA } from '../voxkey.constants.js';

/**
 * After local JWT validation, the token must also be active at the realm's introspection
 * endpoint (through the introspection cache): a revoked token is refused at once. When the
 * endpoint cannot be reached the request fails closed with 503. Needs `clientId`/`clientSecret`.
 *
 * @example
 * @RequireActiveToken() @Post('transfer') transfer() { ... }
 */
export const RequireActiveToken = (): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRE_ACTIVE_METADATA, true);
