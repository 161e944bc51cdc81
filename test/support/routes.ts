import { Controller, Get, Post } from '@nestjs/common';
import { AnyScope, Public, Scopes, VoxKeyUser, type VoxKeyClaims } from '../../lib/index';

@Controller()
export class RoutesController {
  @Public() @Get('public') publicRoute() {
    return { public: true };
  }

  @Get('open') open() {
    return { ok: true };
  }

  @Post('open') openPost() {
    return { ok: true };
  }

  @Scopes('read:posts') @Get('posts') posts() {
    return ['post'];
  }

  @AnyScope('a', 'b') @Get('any') any() {
    return { any: true };
  }

  @Scopes('a') @Scopes('b') @Get('stacked') stacked() {
    return { stacked: true };
  }

  @AnyScope('a', 'b') @AnyScope('c', 'd') @Get('stacked-any') stackedAny() {
    return { stackedAny: true };
  }

  @Get('me') me(@VoxKeyUser() user: VoxKeyClaims) {
    return user;
  }

  @Get('me/sub') sub(@VoxKeyUser('sub') sub: string) {
    return { sub };
  }
}

@Scopes('admin')
@Controller('admin')
export class AdminController {
  @Get() root() {
    return { admin: true };
  }

  @Scopes('write:posts') @Get('write') write() {
    return { write: true };
  }

  @AnyScope('x', 'y') @Get('either') either() {
    return { either: true };
  }
}

/** Inherits the admin requirement and adds its own: a subclass can only tighten. */
@Scopes('super')
@Controller('super-admin')
export class SuperAdminController extends AdminController {}

@Public()
@Controller('status')
export class StatusController {
  @Get() status() {
    return { up: true };
  }
}

export const CONTROLLERS = [
  RoutesController,
  AdminController,
  SuperAdminController,
  StatusController,
];
