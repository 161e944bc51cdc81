import { startupSummary } from '../../../lib/health/startup-summary.provider';
import type { VoxKeyModuleOptions } from '../../../lib/index';
import { displayUrl } from '../../../lib/utils/display-url.util';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';

const UUID_A = '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a';
const UUID_B = '0b9f3c4e-3d8a-4b1e-9c7f-1a2b3c4d5e6f';
const summary = (options: Partial<VoxKeyModuleOptions>, shared = false) =>
  startupSummary(
    resolveVoxKeyOptions({ domain: 'https://id.example.com', ...options } as VoxKeyModuleOptions),
    shared,
  );

describe('startupSummary', () => {
  it('one realm with its defaults', () => {
    expect(summary({ realm: UUID_A, audience: 'https://api.example.com' })).toBe(
      `realm 'default' (issuer https://id.example.com/oauth2/${UUID_A}, JWKS https://id.example.com/oauth2/${UUID_A}/oidc/jwks); validation jwt (RS256); store in-process; contexts http, graphql, ws, rpc; no resource; DPoP off; prewarm background`,
    );
  });

  it('several realms, a back channel, aliases, a shared store, mTLS, introspection', () => {
    const line = summary(
      {
        audience: 'https://api.example.com',
        realms: [
          {
            id: 'acme',
            realm: UUID_A,
            issuerAliases: ['https://old.example.com/oauth2/acme'],
            backchannelUrl: 'http://voxkey.identity.svc:8080',
            clientId: 'acme-api',
            clientSecret: 'acme-secret',
          },
          {
            id: 'globex',
            realm: UUID_B,
            domain: 'https://login.globex.example',
            clientId: 'globex-api',
            clientSecret: 'globex-secret',
          },
        ],
        allowInsecureBackchannel: true,
        validation: 'introspection',
        contexts: { graphql: false, rpc: false },
        mtls: { certificate: 'socket' },
        prewarm: 'block',
      },
      true,
    );
    expect(line).toBe(
      `realms 'acme' (issuer https://id.example.com/oauth2/${UUID_A} +1 alias(es)), 'globex' (issuer https://login.globex.example/oauth2/${UUID_B}); validation introspection; store shared; contexts http, ws; no resource; DPoP off; mTLS allowed; prewarm off`,
    );
    expect(line).not.toMatch(/secret|-api/);
  });

  it('names at most five realms, counts the others, and mentions realmsProvider', () => {
    const uuid = (i: number) => `${i}f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a`;
    const line = summary({
      audience: 'https://api.example.com',
      realms: Array.from({ length: 7 }, (_, i) => ({ id: `r${i}`, realm: uuid(i) })),
      realmsProvider: () => undefined,
    });
    expect(line).toContain("'r4' (issuer");
    expect(line).not.toContain("'r5'");
    expect(line).toContain(' and 2 more, and realms from realmsProvider;');
  });

  it('resources and DPoP, as configured', () => {
    const line = summary({
      realm: UUID_A,
      resources: [
        { resource: 'https://api.example.com/mcp' },
        { resource: 'https://api.example.com/v2?tenant=secret' },
        { resource: 'https://api.example.com' },
      ],
      dpop: { mode: 'required' },
    });
    expect(line).toContain(
      '; resource https://api.example.com/mcp, https://api.example.com/v2, https://api.example.com;',
    );
    expect(line).toContain('; DPoP required;');
  });
});

describe('displayUrl', () => {
  it('keeps scheme, host (with port) and path; drops credentials, query and fragment', () => {
    expect(displayUrl('https://user:pw@keys.example.com:8443/a/jwks?token=abc#x')).toBe(
      'https://keys.example.com:8443/a/jwks',
    );
  });

  it('never repeats what is not a URL', () => {
    expect(displayUrl('secret-value')).toBe('(not a URL)');
  });
});
