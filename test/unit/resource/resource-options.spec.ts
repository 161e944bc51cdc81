import { Logger } from '@nestjs/common';
import type { VoxKeyModuleOptions } from '../../../lib/index';
import { metadataUrlOf, resolveResources } from '../../../lib/resource/resource-options';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';

const REALM = '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a';
const base = { domain: 'https://your-domain.com', realm: REALM } as VoxKeyModuleOptions;
const resolve = (override: Record<string, unknown>) =>
  resolveVoxKeyOptions({ ...base, ...override } as VoxKeyModuleOptions);

describe('resolveResources', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('builds the metadata URL by inserting the well-known suffix after the host (RFC 9728 §3.1)', () => {
    const of = (uri: string) => metadataUrlOf(new URL(uri));
    expect(of('https://h')).toEqual({
      path: '/.well-known/oauth-protected-resource',
      query: '',
      url: 'https://h/.well-known/oauth-protected-resource',
    });
    expect(of('https://h/mcp').url).toBe('https://h/.well-known/oauth-protected-resource/mcp');
    expect(of('https://h/api?t=1')).toEqual({
      path: '/.well-known/oauth-protected-resource/api',
      query: '?t=1',
      url: 'https://h/.well-known/oauth-protected-resource/api?t=1',
    });
    expect(of('https://h/p/').path).toBe('/.well-known/oauth-protected-resource/p/');
  });

  it("'resource' is shorthand for one entry; the URI stays verbatim, without a slash added", () => {
    const resolved = resolve({ resource: 'https://api.example.com' });
    expect(resolved.resources).toEqual([
      {
        resource: 'https://api.example.com',
        metadataUrl: 'https://api.example.com/.well-known/oauth-protected-resource',
        metadataPath: '/.well-known/oauth-protected-resource',
        metadataQuery: '',
        scopesSupported: undefined,
        fields: {},
      },
    ]);
    expect(resolved.resourceMetadata).toEqual({ maxAgeSec: 3600 });
    expect(Object.isFrozen(resolved.resources[0])).toBe(true);
  });

  it('defaults the audience to the resource URIs, and keeps a configured one', () => {
    const uris = ['https://api.example.com/mcp', 'https://api.example.com/api'];
    const resolved = resolve({ resources: uris.map((resource) => ({ resource })) });
    expect(resolved.realms[0].audiences).toEqual(uris);
    expect(resolved.challengeRealm).toBe(uris[0]);
    const own = resolve({ audience: ['x', uris[0]], resource: uris[0] });
    expect(own.realms[0].audiences).toEqual(['x', uris[0]]);
  });

  it('with several realms, each without an audience takes the resources', () => {
    const resolved = resolve({
      realm: undefined,
      resource: 'https://api.example.com/mcp',
      realms: [
        { id: 'a', realm: REALM },
        { id: 'b', realm: '7f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a', audience: 'other' },
      ],
    });
    expect(resolved.realms.map((r) => r.audiences)).toEqual([
      ['https://api.example.com/mcp'],
      ['other'],
    ]);
  });

  it('maps the document fields and extra, and sorts the configured scopes', () => {
    const [resource] = resolveResources({
      ...base,
      resources: [
        {
          resource: 'https://api.example.com/mcp',
          scopesSupported: ['write', 'read'],
          resourceName: 'MCP',
          resourceDocumentation: 'https://docs',
          resourcePolicyUri: 'https://policy',
          resourceTosUri: 'https://tos',
          extra: { authorization_details_types_supported: ['payment'] },
        },
      ],
    });
    expect(resource.scopesSupported).toEqual(['read', 'write']);
    expect(resource.fields).toEqual({
      resource_name: 'MCP',
      resource_documentation: 'https://docs',
      resource_policy_uri: 'https://policy',
      resource_tos_uri: 'https://tos',
      authorization_details_types_supported: ['payment'],
    });
  });

  it.each([
    [{ resource: 'https://a.example', resources: [] }, `'resource' and 'resources' are exclusive`],
    [{ resource: 42 }, `'resource' must be a string`],
    [{ resources: [] }, `'resources' must be a non-empty list`],
    [{ resources: [null] }, `'resources[0]' must be an object`],
    [{ resource: 'not a uri' }, `'resource' must be an absolute URI of printable ASCII`],
    [{ resource: 'nope' }, `'resource' must be an absolute URI such as`],
    [{ resource: 'https://a.example/x#f' }, `'resource' must not have a fragment`],
    [{ resource: 'http://a.example/x' }, `'resource' must use https; plain http`],
    [{ resource: 'ftp://a.example/x' }, `'resource' must use https`],
    [{ resource: 'https://u:p@a.example/x' }, `'resource' must not hold credentials`],
    [{ resource: 'https://a.example:443/x' }, `canonical form: 'https://a.example/x'`],
    [{ resource: 'https://a.example/a:b' }, `must have a path of letters`],
    [
      { resources: [{ resource: 'https://a.example', resourceName: '' }] },
      `'resources[0].resourceName' must be`,
    ],
    [
      { resources: [{ resource: 'https://a.example', extra: [] }] },
      `'resources[0].extra' must be an object`,
    ],
    [
      { resources: [{ resource: 'https://a.example', extra: { resource: 'x' } }] },
      `cannot set 'resource'`,
    ],
    [
      {
        resources: [
          { resource: 'https://a.example', extra: { dpop_bound_access_tokens_required: false } },
        ],
      },
      `cannot set 'dpop_bound_access_tokens_required'`,
    ],
    [
      { resources: [{ resource: 'https://a.example', scopesSupported: ['a b"'] }] },
      `'resources[0].scopesSupported' must be scope tokens`,
    ],
    [
      { resources: [{ resource: 'https://a.example/mcp' }, { resource: 'https://b.example/mcp' }] },
      `would share the metadata path '/.well-known/oauth-protected-resource/mcp'`,
    ],
    [
      { resource: 'https://a.example', audience: 'x' },
      `'resource' 'https://a.example' is not an 'audience' of any realm`,
    ],
    [
      { resource: 'https://a.example', resourceMetadata: [] },
      `'resourceMetadata' must be an object`,
    ],
    [
      { resource: 'https://a.example', resourceMetadata: { maxAgeSec: -1 } },
      `'resourceMetadata.maxAgeSec' must be a number from 0 to 86400`,
    ],
  ])('refuses %j', (override, message) => {
    expect(() => resolve(override)).toThrow(message);
  });

  it('warns of a query and of a trailing slash, and allows http on loopback', () => {
    resolve({
      resources: [
        { resource: 'http://localhost:3000/mcp' },
        { resource: 'https://a.example/q?x=1' },
        { resource: 'https://a.example/s/' },
        { resource: 'https://a.example/' },
      ],
    });
    expect(warn.mock.calls.map(([message]) => message as string)).toEqual([
      expect.stringContaining(`'resources[1].resource' has a query`),
      expect.stringContaining(`'resources[2].resource' ends with a slash`),
    ]);
  });

  it('has no resources by default', () => {
    expect(resolve({ audience: 'x' }).resources).toEqual([]);
  });
});
