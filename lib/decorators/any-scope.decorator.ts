import { ANY_SCOPE_METADATA } from '../voxkey.constants.js';
import { appendMetadata } from '../utils/route-metadata.util.js';
import { scopeList } from '../utils/scopes.util.js';

/**
 * Requires at least one of the listed scopes. Each `@AnyScope` list (on the controller, on the
 * handler, or stacked) must be satisfied on its own.
 *
 * @example
 * @AnyScope('read:posts', 'admin') @Get(':id') get() { ... }
 */
export const AnyScope = (...scopes: string[]): MethodDecorator & ClassDecorator =>
  appendMetadata(ANY_SCOPE_METADATA, scopeList('AnyScope', scopes));
