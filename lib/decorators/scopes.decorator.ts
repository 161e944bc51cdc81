import { SCOPES_METADATA } from '../voxkey.constants.js';
import { appendMetadata } from '../utils/route-metadata.util.js';
import { scopeList } from '../utils/scopes.util.js';

/**
 * Requires every listed scope. On a controller and on a handler, and when stacked, all apply:
 * a handler can add scopes, never remove the controller's.
 *
 * @example
 * @Scopes('read:posts') @Get() list() { ... }
 */
export const Scopes = (...scopes: string[]): MethodDecorator & ClassDecorator =>
  appendMetadata(SCOPES_METADATA, scopeList('Scopes', scopes));
