import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';

/**
 * The validated token's claims (`req.user`), or one claim when a name is given.
 *
 * Typed explicitly so the emitted declaration only names types that NestJS 11 exports too.
 *
 * @example
 * @Get('me') me(@VoxKeyUser() user: VoxKeyClaims, @VoxKeyUser('sub') sub: string) { ... }
 */
export const VoxKeyUser: (claim?: keyof VoxKeyClaims) => ParameterDecorator = createParamDecorator(
  (claim: keyof VoxKeyClaims | undefined, context: ExecutionContext): unknown => {
    const user = context.switchToHttp().getRequest<{ user?: VoxKeyClaims }>().user;
    return claim === undefined ? user : user?.[claim];
  },
);
