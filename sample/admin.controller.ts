import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Resource, RevocationService, Scopes } from '@voxkey/nestjs';
import { API_RESOURCE } from './sample.config';

@Resource(API_RESOURCE)
@Controller('admin')
@Scopes('admin:tokens')
export class AdminController {
  constructor(private readonly revocation: RevocationService) {}

  /** Revokes the token in the body at the realm; this API then refuses it at once. */
  @Post('revoke')
  @HttpCode(200)
  async revoke(@Body() body: { token?: unknown }): Promise<{ revoked: true }> {
    if (typeof body?.token !== 'string' || body.token.length === 0) {
      throw new BadRequestException('token must be a non-empty string');
    }
    await this.revocation.revoke(body.token, { tokenTypeHint: 'access_token' });
    return { revoked: true };
  }
}
