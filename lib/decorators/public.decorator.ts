import { SetMetadata } from '@nestjs/common';
import { PUBLIC_METADATA } from '../voxkey.constants.js';

/**
 * Skips authentication (and scope checks) for a handler or a whole controller.
 *
 * @example
 * @Public() @Get('health') health() { return { ok: true }; }
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_METADATA, true);
