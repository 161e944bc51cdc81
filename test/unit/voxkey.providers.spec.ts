import type { VoxKeyModuleOptions } from '../../lib/index';
import { resolveVoxKeyOptions } from '../../lib/voxkey.providers';

const REALM = '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a';
const base: VoxKeyModuleOptions = {
  domain: 'https://your-domain.com',
  realm: REALM,
  audience: 'https://api.example.com',
};
const resolve = (override: Record<string, unknown>) =>
  resolveVoxKeyOptions({ ...base, ...override } as VoxKeyModuleOptions);

describe('resolveVoxKeyOptions', () => {
  it('fills in the defaults', () => {
    const resolved = resolveVoxKeyOptions(base);
    expect(resolved).toMatchObject({
      realms: [{ id: 'default', audiences: ['https://api.example.com'] }],
      multiRealm: false,
      algorithms: ['RS256'],
      clockTolerance: 5,
      maxTokenAge: undefined,
      requireTokenType: false,
      jwks: { cacheMaxAgeMs: 600_000, cooldownMs: 30_000, timeoutMs: 5_000 },
      prewarm: 'background',
      prewarmTimeoutMs: 5_000,
      challengeRealm: 'https://api.example.com',
    });
    expect(resolved.realms[0].endpoints.issuer).toBe(`https://your-domain.com/oauth2/${REALM}`);
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it("keeps 'prewarm' and 'prewarmTimeoutMs' as given", () => {
    expect(resolve({ prewarm: 'block', prewarmTimeoutMs: 1_500 })).toMatchObject({
      prewarm: 'block',
      prewarmTimeoutMs: 1_500,
    });
    expect(resolve({ prewarm: 'off' }).prewarm).toBe('off');
  });

  it("with 'realms' the challenge realm is the module's domain, not a tenant's audience", () => {
    const resolved = resolveVoxKeyOptions({
      domain: 'HTTPS://Your-Domain.com/',
      realms: [
        { id: 'acme', realm: REALM, audience: 'https://api.example.com/acme' },
        {
          id: 'globex',
          realm: '9b2e4c1d-1f3a-4e5b-8c7d-0a1b2c3d4e5f',
          audience: 'https://api.example.com/globex',
          domain: 'https://login.globex.example',
        },
      ],
    });
    expect(resolved.challengeRealm).toBe('https://your-domain.com');
    // A single realm keeps its audience, as before.
    expect(resolveVoxKeyOptions(base).challengeRealm).toBe('https://api.example.com');
  });

  it.each([
    ['your-domain.com', 'https://your-domain.com'],
    ['https://your-domain.com/', 'https://your-domain.com'],
    ['HTTPS://Your-Domain.com', 'https://your-domain.com'],
    ['https://your-domain.com:8443', 'https://your-domain.com:8443'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['http://127.0.0.1:4000', 'http://127.0.0.1:4000'],
    ['http://[::1]:4000', 'http://[::1]:4000'],
  ])('domain %j resolves to %j', (domain, origin) => {
    expect(resolve({ domain }).realms[0].endpoints.issuer).toBe(`${origin}/oauth2/${REALM}`);
  });

  it.each([
    [{ domain: undefined }, "'domain' is required"],
    [{ domain: '  ' }, "'domain' is required"],
    [
      { domain: 'http://your-domain.com' },
      "'domain' must use https; plain http is only allowed for loopback hosts",
    ],
    [{ domain: 'http://10.0.0.1' }, "'domain' must use https"],
    [{ domain: 'http://evil.localhost' }, "'domain' must use https"],
    [{ domain: 'http://localhost.evil.com' }, "'domain' must use https"],
    [{ domain: 'ftp://your-domain.com' }, "'domain' must use https"],
    [{ domain: 'https://your-domain.com/oauth2' }, "'domain' must be an origin"],
    [{ domain: 'https://user:pw@your-domain.com' }, "'domain' must be an origin"],
    [{ domain: 'https://your-domain.com?x=1' }, "'domain' must be an origin"],
    [{ domain: 'https://exa mple.com' }, "'domain' is not a valid URL"],
    [{ realm: undefined }, "'realm' is required"],
    [{ realm: '../evil' }, "'realm' must be the realm UUID"],
    [{ audience: undefined }, "'audience' is required to check the 'aud' claim"],
    [{ audience: [] }, "'audience' is required to check the 'aud' claim"],
    [{ audience: ['https://a', ''] }, "'audience[1]' is required"],
    [{ audience: 'https://a"b' }, "'audience' must be printable ASCII"],
    [{ algorithms: [] }, "'algorithms' must be a non-empty list"],
    [{ algorithms: ['HS256'] }, "'algorithms' must not contain 'HS256'"],
    [{ algorithms: ['RS256', 'hs512'] }, "'algorithms' must not contain 'hs512'"],
    [{ algorithms: ['none'] }, "'algorithms' must not contain 'none'"],
    [{ algorithms: ['NONE'] }, "'algorithms' must not contain 'NONE'"],
    [{ algorithms: ['Ed25519'] }, "'algorithms' contains 'Ed25519'; supported:"],
    [{ algorithms: ['RS1'] }, "'algorithms' contains 'RS1'"],
    [{ clockTolerance: -1 }, "'clockTolerance' must be a number from 0 to 300"],
    [{ clockTolerance: Number.NaN }, "'clockTolerance' must be a number"],
    [{ maxTokenAge: 0 }, "'maxTokenAge' must be a number"],
    [{ requireTokenType: 'yes' }, "'requireTokenType' must be a boolean"],
    [{ jwks: { cooldownMs: -5 } }, "'jwks.cooldownMs' must be a number"],
    [{ jwks: { timeoutMs: 10 } }, "'jwks.timeoutMs' must be a number from 100"],
    [{ jwks: { cacheMaxAgeMs: '1' } }, "'jwks.cacheMaxAgeMs' must be a number"],
    [{ clientSecret: 's3cret' }, "'clientId' is required when 'clientSecret' is set"],
    [{ clientId: '' }, "'clientId' must be a non-empty string"],
    [{ validation: 'opaque' }, "'validation' must be one of 'jwt', 'introspection'"],
    [
      { validation: 'introspection' },
      "'clientId' and 'clientSecret' are required when 'validation' is 'introspection'",
    ],
    [{ clientAuthMethod: 'private_key_jwt' }, "'clientAuthMethod' must be one of"],
    [{ requestTimeoutMs: 0 }, "'requestTimeoutMs' must be a number"],
    [{ introspection: [] }, "'introspection' must be an object"],
    [
      { introspection: { inactiveCacheTtlMs: 60_000 } },
      "'introspection.inactiveCacheTtlMs' must be a number from 0 to 10000",
    ],
    [{ introspection: { cacheTtlMs: -1 } }, "'introspection.cacheTtlMs' must be a number"],
    [{ m2m: { clientId: 'x' } }, "'m2m.clientId' and 'm2m.clientSecret' go together"],
    [
      { m2m: { resource: '/relative' } },
      "'m2m.resource' must be an absolute URI without a fragment",
    ],
    [{ m2m: { resource: 'https://api.example.com/#x' } }, "'m2m.resource' must be an absolute URI"],
    [{ m2m: { scope: 'a "b"' } }, "'m2m.scope' must be scope tokens"],
    [{ m2m: { maxRetries: 11 } }, "'m2m.maxRetries' must be a number from 0 to 10"],
    [{ prewarm: 'eager' }, "'prewarm' must be one of 'background', 'block', 'off'"],
    [{ prewarm: true }, "'prewarm' must be one of"],
    [{ prewarmTimeoutMs: 50 }, "'prewarmTimeoutMs' must be a number from 100 to 300000"],
  ])('%j is refused: %s', (override, message) => {
    expect(() => resolve(override)).toThrow(message);
  });

  it('never puts the client secret in an error message', () => {
    expect(() => resolve({ clientSecret: 'top-secret-value', clientId: 7 })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('top-secret-value') }),
    );
  });

  it('fills in the service defaults; M2M falls back to the module client', () => {
    const resolved = resolve({ clientId: 'api', clientSecret: 's' });
    expect(resolved).toMatchObject({
      validation: 'jwt',
      clientAuthMethod: 'client_secret_basic',
      requestTimeoutMs: 5000,
      introspection: { cacheTtlMs: 30_000, inactiveCacheTtlMs: 3_000, cacheMaxEntries: 10_000 },
      m2m: { refreshMarginMs: 60_000, maxRetries: 3 },
      realms: [{ m2m: { clientId: 'api', clientSecret: 's', scope: [], resource: undefined } }],
    });
    const own = resolve({
      m2m: { clientId: 'm', clientSecret: 't', scope: 'b a b', resource: 'urn:api' },
    });
    expect(own.realms[0].m2m).toMatchObject({
      clientId: 'm',
      clientSecret: 't',
      scope: ['a', 'b'],
      resource: 'urn:api',
    });
  });

  it('keeps several audiences and de-duplicates algorithms', () => {
    const resolved = resolve({
      audience: ['https://a', 'https://b'],
      algorithms: ['ES256', 'RS256', 'ES256'],
    });
    expect(resolved.realms[0].audiences).toEqual(['https://a', 'https://b']);
    expect(resolved.algorithms).toEqual(['ES256', 'RS256']);
  });

  describe('tokenLocation', () => {
    it('defaults to the Authorization header only', () => {
      expect(resolveVoxKeyOptions(base).tokenLocation).toEqual({ header: true, cookie: undefined });
      expect(resolve({ tokenLocation: {} }).tokenLocation).toEqual({
        header: true,
        cookie: undefined,
      });
    });

    it('takes a cookie with an origin allow-list, de-duplicated, or a header to require, lower-cased', () => {
      const origins = resolve({
        tokenLocation: {
          cookie: '__Host-vx_at',
          csrf: {
            origins: [
              'https://app.example.com',
              'http://localhost:5173',
              'https://app.example.com',
            ],
          },
        },
      }).tokenLocation;
      expect(origins).toEqual({
        header: true,
        cookie: {
          name: '__Host-vx_at',
          csrf: { origins: ['https://app.example.com', 'http://localhost:5173'] },
        },
      });
      expect(Object.isFrozen(origins.cookie)).toBe(true);
      expect(
        resolve({
          tokenLocation: { header: false, cookie: 'vx', csrf: { header: 'X-Requested-With' } },
        }).tokenLocation,
      ).toEqual({ header: false, cookie: { name: 'vx', csrf: { header: 'x-requested-with' } } });
    });

    it.each<[unknown, string]>([
      [[], "'tokenLocation' must be an object"],
      [{ header: 'yes' }, "'tokenLocation.header' must be a boolean"],
      [{ header: false }, "'tokenLocation.header' is false and no 'tokenLocation.cookie' is named"],
      [{ cookie: '' }, "'tokenLocation.cookie' must be a non-empty string"],
      [
        { cookie: 'vx at', csrf: { header: 'x-a' } },
        "'tokenLocation.cookie' must be a cookie name",
      ],
      [{ cookie: 'vx;a', csrf: { header: 'x-a' } }, "'tokenLocation.cookie' must be a cookie name"],
      [{ cookie: 'vx=a', csrf: { header: 'x-a' } }, "'tokenLocation.cookie' must be a cookie name"],
      [
        { cookie: 'access_token' },
        "'tokenLocation.cookie' needs a CSRF defence: 'tokenLocation.csrf'",
      ],
      [
        { csrf: { header: 'x-a' } },
        "'tokenLocation.csrf' applies only with 'tokenLocation.cookie'",
      ],
      [{ cookie: 'vx', csrf: 'origin' }, "'tokenLocation.csrf' must be an object"],
      [
        { cookie: 'vx', csrf: {} },
        "'tokenLocation.csrf' must be { origins: [...] } or { header: '...' }",
      ],
      [
        { cookie: 'vx', csrf: { origins: ['https://a.example'], header: 'x-a' } },
        "'tokenLocation.csrf' must be { origins: [...] } or { header: '...' }",
      ],
      [
        { cookie: 'vx', csrf: { origins: [] } },
        "'tokenLocation.csrf.origins' must be a non-empty list",
      ],
      [
        { cookie: 'vx', csrf: { origins: 'https://a.example' } },
        "'tokenLocation.csrf.origins' must be a non-empty list",
      ],
      [
        { cookie: 'vx', csrf: { origins: ['https://a.example/'] } },
        `'tokenLocation.csrf.origins' must hold origins as browsers send them, scheme, host and port only (such as 'https://app.example.com'): "https://a.example/" would be 'https://a.example'`,
      ],
      [{ cookie: 'vx', csrf: { origins: ['https://A.example'] } }, "would be 'https://a.example'"],
      [
        { cookie: 'vx', csrf: { origins: ['https://a.example:443'] } },
        "would be 'https://a.example'",
      ],
      [{ cookie: 'vx', csrf: { origins: ['*'] } }, `"*"`],
      [{ cookie: 'vx', csrf: { origins: ['null'] } }, `"null"`],
      [{ cookie: 'vx', csrf: { origins: ['file:///x'] } }, `"file:///x"`],
      [{ cookie: 'vx', csrf: { origins: [42] } }, '42'],
      [{ cookie: 'vx', csrf: { header: '' } }, "'tokenLocation.csrf.header' must be a header name"],
      [
        { cookie: 'vx', csrf: { header: 'x a' } },
        "'tokenLocation.csrf.header' must be a header name",
      ],
      [{ cookie: 'vx', csrf: { header: 42 } }, "'tokenLocation.csrf.header' must be a header name"],
      ...[
        'Content-Type',
        'accept',
        'origin',
        'cookie',
        'authorization',
        'sec-fetch-site',
        'proxy-x',
      ].map((header): [unknown, string] => [
        { cookie: 'vx', csrf: { header } },
        `'tokenLocation.csrf.header' cannot be '${header.toLowerCase()}': browsers send it cross-site without a preflight`,
      ]),
    ])('tokenLocation %j is refused: %s', (tokenLocation, message) => {
      expect(() => resolve({ tokenLocation })).toThrow(message);
    });
  });
});
