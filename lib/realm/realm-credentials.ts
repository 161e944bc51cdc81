import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import type { ClientCredentials } from './realm-http.client.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';

/** This API's own client credentials, required by introspection and revocation. */
export function apiCredentials(options: ResolvedVoxKeyOptions, purpose: string): ClientCredentials {
  const { clientId, clientSecret } = options;
  if (clientId === undefined || clientSecret === undefined) {
    throw new VoxKeyConfigError(`'clientId' and 'clientSecret' are required ${purpose}`);
  }
  return { clientId, clientSecret };
}
