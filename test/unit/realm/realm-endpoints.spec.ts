import { getVoxKeyEndpoints } from '../../../lib/realm/realm-endpoints';

const REALM = '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a';

describe('getVoxKeyEndpoints', () => {
  it('derives every realm URL', () => {
    expect(getVoxKeyEndpoints('https://your-domain.com/', REALM)).toEqual({
      issuer: `https://your-domain.com/oauth2/${REALM}`,
      jwksUri: `https://your-domain.com/oauth2/${REALM}/oidc/jwks`,
      tokenEndpoint: `https://your-domain.com/oauth2/${REALM}/token`,
      introspectionEndpoint: `https://your-domain.com/oauth2/${REALM}/introspect`,
      revocationEndpoint: `https://your-domain.com/oauth2/${REALM}/revoke`,
    });
  });
});
