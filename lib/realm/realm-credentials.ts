import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import type { ClientCredentials } from './realm-http.client.js';
import type { ResolvedRealm } from '../interfaces/resolved-voxkey-options.interface.js';

/** This API's own client credentials in `realm`, required by introspection and revocation. */
export function apiCredentials(
  realm: ResolvedRealm,
  purpose: string,
  multiRealm: boolean,
): ClientCredentials {
  const { clientId, clientSecret } = realm;
  if (clientId === undefined || clientSecret === undefined) {
    throw new VoxKeyConfigError(
      multiRealm
        ? `'clientId' and 'clientSecret' of realm '${realm.id}' are required ${purpose}`
        : `'clientId' and 'clientSecret' are required ${purpose}`,
    );
  }
  return { clientId, clientSecret };
}
