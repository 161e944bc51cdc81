import { RealmHttpClient } from '../../lib/realm/realm-http.client';
import type { VoxKeyModuleOptions } from '../../lib/index';
import { IntrospectionService } from '../../lib/services/introspection.service';
import { M2MTokenService } from '../../lib/services/m2m-token.service';
import { RevocationList } from '../../lib/services/revocation-list';
import { RevocationService } from '../../lib/services/revocation.service';
import { SharedState } from '../../lib/store/shared-state';
import { resolveVoxKeyOptions } from '../../lib/voxkey.providers';

/** The services wired by hand, as the module does, for service-level tests against a real realm. */
export function buildServices(options: VoxKeyModuleOptions) {
  const resolved = resolveVoxKeyOptions(options);
  const http = new RealmHttpClient(resolved);
  const state = new SharedState(resolved);
  const revoked = new RevocationList(resolved, state);
  const introspection = new IntrospectionService(resolved, http, revoked, state);
  const revocation = new RevocationService(resolved, http, introspection, revoked);
  const m2m = new M2MTokenService(resolved, http, state);
  return { resolved, http, state, revoked, introspection, revocation, m2m };
}
