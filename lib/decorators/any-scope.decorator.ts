import { SetMetadata } from '@nestjs/common';
import { ANY_SCOPE_METADATA } from '../voxkey.constants.js';
import { scopeList } from './scope-list.js';

/**
 * Requires at least one of the listed scopes. On a controller and on a handler, each list
 * must be satisfied.
 *
 * @example
 * @AnyScope('read:posts', 'admin') @Get(':id') get() { ... }
 */
export const AnyScope = (...scopes: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ANY_SCOPE_METADATA, scopeList('AnyScope', scopes));
