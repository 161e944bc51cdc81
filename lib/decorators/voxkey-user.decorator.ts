import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';
import { transportOf } from '../transports/transports.js';

/**
 * The validated token's claims (`req.user` on HTTP; in resolvers, gateways and microservice
 * handlers, where the guard keeps them for the call), or one claim when a name is given.
 *
 * Typed explicitly so the emitted declaration only names types that NestJS 11 exports too.
 *
 * @example
 * @Get('me') me(@VoxKeyUser() user: VoxKeyClaims, @VoxKeyUser('sub') sub: string) { ... }
 */
export const VoxKeyUser: (claim?: keyof VoxKeyClaims) => ParameterDecorator = createParamDecorator(
  (claim: keyof VoxKeyClaims | undefined, context: ExecutionContext): unknown => {
    const user = transportOf(context)?.getUser(context) as VoxKeyClaims | undefined;
    return claim === undefined ? user : user?.[claim];
  },
);
