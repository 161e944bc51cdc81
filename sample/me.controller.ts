import { Controller, Get } from '@nestjs/common';
import { Resource, type VoxKeyClaims, VoxKeyUser } from '@voxkey/nestjs';
import { API_RESOURCE } from './sample.config';

@Resource(API_RESOURCE)
@Controller('me')
export class MeController {
  /** Any valid token: returns its claims. */
  @Get()
  me(@VoxKeyUser() user: VoxKeyClaims): VoxKeyClaims {
    return user;
  }
}
