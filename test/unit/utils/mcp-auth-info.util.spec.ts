import { mcpAuthInfo, setMcpAuth } from '../../../lib/utils/mcp-auth-info.util';
import type { VoxKeyClaims } from '../../../lib/interfaces/voxkey-claims.interface';

const API = 'https://api.example.com/mcp';

function claims(extra: Partial<VoxKeyClaims> = {}): VoxKeyClaims {
  return { iss: 'https://id.example.com/oauth2/r', aud: API, exp: 2_000_000_000, ...extra };
}

describe('mcpAuthInfo', () => {
  it("gives the SDK's AuthInfo of a verified token", () => {
    const verified = claims({ client_id: 'agent', scope: 'read:posts write:posts', realm: 'r' });
    const auth = mcpAuthInfo('tok', verified, 'r', [API]);
    expect(auth).toEqual({
      token: 'tok',
      clientId: 'agent',
      scopes: ['read:posts', 'write:posts'],
      expiresAt: 2_000_000_000,
      resource: new URL(API),
      extra: { claims: verified, realm: 'r' },
    });
    expect(auth.resource).toBeInstanceOf(URL);
  });

  it('falls back to azp, then to an empty client id; reads scp lists', () => {
    expect(mcpAuthInfo('t', claims({ azp: 'spa', scp: ['a', 'b'] }), 'r', [API])).toMatchObject({
      clientId: 'spa',
      scopes: ['a', 'b'],
    });
    const bare = mcpAuthInfo('t', claims({ client_id: 42 as unknown as string }), 'r', [API]);
    expect(bare.clientId).toBe('');
    expect(bare.scopes).toEqual([]);
  });

  it('names the first audience this API accepts, and no resource when none is a URL or configured', () => {
    const aud = ['https://other.example.com', 'sample api', 'urn:api', API];
    expect(mcpAuthInfo('t', claims({ aud }), 'r', ['sample api']).resource).toBeUndefined();
    expect(mcpAuthInfo('t', claims({ aud }), 'r', [API, 'urn:api']).resource?.href).toBe('urn:api');
    expect(mcpAuthInfo('t', claims({ aud }), 'r', [API]).resource?.href).toBe(API);
    expect(mcpAuthInfo('t', claims(), 'r', undefined).resource).toBeUndefined();
    expect('resource' in mcpAuthInfo('t', claims(), 'r', ['urn:x'])).toBe(false);
  });

  it("names the route's protected resource when it has one, whatever the order of aud", () => {
    const aud = ['https://api.example.com', API];
    const auth = mcpAuthInfo('t', claims({ aud }), 'r', ['https://api.example.com', API], API);
    expect(auth.resource).toEqual(new URL(API));
    const origin = 'https://api.example.com';
    expect(mcpAuthInfo('t', claims(), 'r', undefined, origin).resource?.href).toBe(`${origin}/`);
  });

  it('leaves out expiresAt when exp is not a number', () => {
    const auth = mcpAuthInfo('t', claims({ exp: undefined as unknown as number }), 'r', [API]);
    expect('expiresAt' in auth).toBe(false);
  });
});

describe('setMcpAuth', () => {
  const auth = mcpAuthInfo('t', claims(), 'r', [API]);

  it('replaces what another layer set, on the request and on a Fastify raw request', () => {
    const raw: { auth?: unknown } = { auth: 'stale' };
    const request = { auth: 'stale', raw } as unknown as Parameters<typeof setMcpAuth>[0];
    setMcpAuth(request, auth);
    expect(request.auth).toBe(auth);
    expect(raw.auth).toBe(auth);
    setMcpAuth(request, undefined);
    expect(request.auth).toBeUndefined();
    expect(raw.auth).toBeUndefined();
  });

  it('adds no property when clearing a request that had none', () => {
    const request = {};
    setMcpAuth(request, undefined);
    expect('auth' in request).toBe(false);
  });
});
