import { Controller, Get } from '@nestjs/common';
import { VoxKeyUser, type VoxKeyClaims } from '@voxkey/nestjs';

@Controller('me')
export class MeController {
  /** Any valid token: returns its claims. */
  @Get()
  me(@VoxKeyUser() user: VoxKeyClaims): VoxKeyClaims {
    return user;
  }
}
