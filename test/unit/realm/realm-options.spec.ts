import { VoxKeyConfigError } from '../../../lib/errors/voxkey.errors';
import type {
  VoxKeyModuleOptions,
  VoxKeyRealmOptions,
} from '../../../lib/interfaces/voxkey-module-options.interface';
import { resolveRealms } from '../../../lib/realm/realm-options';

const DOMAIN = 'https://id.example.com';
const UUID_A = '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a';
const UUID_B = '9b2e4c1d-1f3a-4e5b-8c7d-0a1b2c3d4e5f';
const UUID_C = '3f1c0000-0000-4000-8000-000000000003';
const A: VoxKeyRealmOptions = { id: 'a', realm: UUID_A, audience: 'https://api.example.com/a' };
const B: VoxKeyRealmOptions = { id: 'b', realm: UUID_B, audience: 'https://api.example.com/b' };

/** Module options with these realms (and `extra` at the top level). */
const withRealms = (
  realms: VoxKeyRealmOptions[],
  extra: Partial<VoxKeyModuleOptions> = {},
): VoxKeyModuleOptions => ({ domain: DOMAIN, realms, ...extra });

/** The start-up error resolving `options` gives (it must give one). */
function startupError(options: VoxKeyModuleOptions): string {
  try {
    resolveRealms(options);
  } catch (error) {
    expect(error).toBeInstanceOf(VoxKeyConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a VoxKeyConfigError');
}

describe('resolveRealms', () => {
  it('resolves each realm with its own issuer, endpoints, audience and credentials', () => {
    const { realms, multiRealm } = resolveRealms(
      withRealms([
        { ...A, clientId: 'api-a', clientSecret: 'sa' },
        { ...B, domain: 'https://login.b.example', m2m: { clientId: 'm2m-b', clientSecret: 'sb' } },
      ]),
    );
    expect(multiRealm).toBe(true);
    expect(realms.map((realm) => realm.id)).toEqual(['a', 'b']);
    expect(realms[0]).toMatchObject({
      issuers: [`${DOMAIN}/oauth2/${UUID_A}`],
      audiences: ['https://api.example.com/a'],
      m2m: { clientId: 'api-a', clientSecret: 'sa' },
    });
    expect(realms[1].endpoints.tokenEndpoint).toBe(
      `https://login.b.example/oauth2/${UUID_B}/token`,
    );
    // B's M2M client is its own; it inherits nothing from A.
    expect(realms[1]).toMatchObject({
      clientId: undefined,
      m2m: { clientId: 'm2m-b', clientSecret: 'sb' },
    });
    expect(Object.isFrozen(realms[1])).toBe(true);
    expect(Object.isFrozen(realms[1].m2m)).toBe(true);
  });

  it("the module's backchannelUrl is inherited only by realms under the module's domain", () => {
    const backchannelUrl = 'http://127.0.0.1:8080';
    const { realms } = resolveRealms(
      withRealms(
        [
          A,
          { ...B, domain: 'https://login.b.example' },
          {
            id: 'c',
            realm: UUID_C,
            audience: 'https://api.example.com/c',
            domain: 'https://login.c.example',
            backchannelUrl: 'http://127.0.0.1:9090',
          },
        ],
        { backchannelUrl },
      ),
    );
    // No domain of its own: every endpoint on the module's back channel.
    expect(realms[0].endpoints).toMatchObject({
      tokenEndpoint: `${backchannelUrl}/oauth2/${UUID_A}/token`,
      introspectionEndpoint: `${backchannelUrl}/oauth2/${UUID_A}/introspect`,
      jwksUri: `${backchannelUrl}/oauth2/${UUID_A}/oidc/jwks`,
    });
    // A domain of its own: its secret and key set requests go there, not to another host.
    expect(realms[1].endpoints).toMatchObject({
      tokenEndpoint: `https://login.b.example/oauth2/${UUID_B}/token`,
      introspectionEndpoint: `https://login.b.example/oauth2/${UUID_B}/introspect`,
      jwksUri: `https://login.b.example/oauth2/${UUID_B}/oidc/jwks`,
    });
    // Its own back channel still applies; the public issuer stays under its domain.
    expect(realms[2].endpoints).toMatchObject({
      tokenEndpoint: `http://127.0.0.1:9090/oauth2/${UUID_C}/token`,
      jwksUri: `http://127.0.0.1:9090/oauth2/${UUID_C}/oidc/jwks`,
    });
    expect(realms[2].issuers).toEqual([`https://login.c.example/oauth2/${UUID_C}`]);
  });

  describe('start-up errors, each naming the option', () => {
    it('duplicate realm ids', () => {
      expect(startupError(withRealms([A, { ...B, id: 'a' }]))).toBe(
        "VoxKeyModule: 'realms': realms 'a' and 'a' have the same id",
      );
    });

    it('duplicate realm UUIDs, whatever their case or domain', () => {
      const message = startupError(
        withRealms([A, { ...B, realm: UUID_A.toUpperCase(), domain: 'https://other.example' }]),
      );
      expect(message).toContain("'realms': realms 'a' and 'b' have the same realm UUID");
      expect(message).toContain(UUID_A);
    });

    it('duplicate issuers, through issuerAliases', () => {
      const issuerOfA = `${DOMAIN}/oauth2/${UUID_A}`;
      expect(startupError(withRealms([A, { ...B, issuerAliases: [issuerOfA] }]))).toBe(
        `VoxKeyModule: 'realms': realms 'a' and 'b' have the same issuer (${issuerOfA})`,
      );
    });

    it('the same JWKS URL for two realms', () => {
      const jwksUri = 'https://keys.example.com/jwks';
      expect(
        startupError(
          withRealms([
            { ...A, jwksUri },
            { ...B, jwksUri },
          ]),
        ),
      ).toBe(`VoxKeyModule: 'realms': realms 'a' and 'b' have the same JWKS URL (${jwksUri})`);
      // A top-level jwksUri would be every realm's: refused outright.
      expect(startupError(withRealms([A, B], { jwksUri }))).toContain(
        "'jwksUri' and 'realms' are exclusive",
      );
    });

    it('but one back channel for every realm is fine: each realm keeps its own key set URL', () => {
      const { realms } = resolveRealms(
        withRealms([A, B], { backchannelUrl: 'http://127.0.0.1:8080' }),
      );
      expect(realms.map((realm) => realm.endpoints.jwksUri)).toEqual([
        `http://127.0.0.1:8080/oauth2/${UUID_A}/oidc/jwks`,
        `http://127.0.0.1:8080/oauth2/${UUID_B}/oidc/jwks`,
      ]);
      expect(realms[0].issuers).toEqual([`${DOMAIN}/oauth2/${UUID_A}`]);
    });

    it('a realm with no audience of its own and none at the top level names that realm', () => {
      expect(startupError(withRealms([A, { ...B, audience: undefined }]))).toBe(
        "VoxKeyModule: 'realms[1].audience' is required to check the 'aud' claim",
      );
      // An explicit top-level audience is inherited.
      const { realms } = resolveRealms(
        withRealms([A, { ...B, audience: undefined }], { audience: 'https://shared' }),
      );
      expect(realms[1].audiences).toEqual(['https://shared']);
      // A bad inherited one is named where it was written.
      expect(
        startupError(withRealms([A, { ...B, audience: undefined }], { audience: 'a"b' })),
      ).toContain("'audience' must be printable ASCII");
    });

    it('a realm that is not a UUID', () => {
      expect(startupError(withRealms([A, { ...B, realm: 'globex' }]))).toBe(
        "VoxKeyModule: 'realms[1].realm' must be the realm UUID",
      );
      expect(startupError(withRealms([A, { ...B, realm: `${UUID_B}/../x` }]))).toBe(
        "VoxKeyModule: 'realms[1].realm' must be the realm UUID",
      );
    });

    it('a realm id that is not a plain name', () => {
      expect(startupError(withRealms([{ ...A, id: '../a' }]))).toContain("'realms[0].id' must be");
      expect(startupError(withRealms([{ ...A, id: '' }]))).toContain("'realms[0].id' is required");
    });

    it("'realm' together with 'realms'", () => {
      expect(startupError(withRealms([A], { realm: UUID_B }))).toBe(
        "VoxKeyModule: 'realm' and 'realms' are exclusive: give each realm its own 'realm' in 'realms'",
      );
    });

    it("top-level credentials or issuerAliases with 'realms'", () => {
      expect(startupError(withRealms([A], { clientId: 'api' }))).toContain(
        "'clientId' and 'realms' are exclusive",
      );
      expect(startupError(withRealms([A], { clientSecret: 's' }))).toContain(
        "'clientSecret' and 'realms' are exclusive",
      );
      expect(startupError(withRealms([A], { m2m: { clientId: 'm', clientSecret: 's' } }))).toBe(
        "VoxKeyModule: 'm2m.clientId' and 'realms' are exclusive: a realm's credentials go in 'realms[i].m2m'",
      );
      expect(startupError(withRealms([A], { issuerAliases: ['https://x'] }))).toContain(
        "'issuerAliases' and 'realms' are exclusive",
      );
    });

    it('a realm secret without its id', () => {
      expect(startupError(withRealms([A, { ...B, clientSecret: 's' }]))).toBe(
        "VoxKeyModule: 'realms[1].clientId' is required when 'realms[1].clientSecret' is set",
      );
      expect(startupError(withRealms([{ ...A, m2m: { clientSecret: 's' } }]))).toBe(
        "VoxKeyModule: 'realms[0].m2m.clientId' and 'realms[0].m2m.clientSecret' go together",
      );
    });

    it('a plain-http back channel to a host that is not loopback, unless allowInsecureBackchannel', () => {
      const internal = { ...B, backchannelUrl: 'http://voxkey.identity.svc.cluster.local:8080' };
      const message = startupError(withRealms([A, internal]));
      expect(message).toContain("'realms[1].backchannelUrl' must use https");
      expect(message).toContain("'allowInsecureBackchannel: true'");
      const { realms } = resolveRealms(
        withRealms([A, internal], { allowInsecureBackchannel: true }),
      );
      expect(realms[1].endpoints.introspectionEndpoint).toBe(
        `http://voxkey.identity.svc.cluster.local:8080/oauth2/${UUID_B}/introspect`,
      );
      // The public issuer stays the one under the domain.
      expect(realms[1].issuers).toEqual([`${DOMAIN}/oauth2/${UUID_B}`]);
      // Loopback needs no permission; a per-realm jwksUri is checked the same way.
      expect(() =>
        resolveRealms(withRealms([{ ...A, backchannelUrl: 'http://127.0.0.1:8080' }])),
      ).not.toThrow();
      expect(startupError(withRealms([{ ...A, jwksUri: 'http://keys.internal/jwks' }]))).toContain(
        "'realms[0].jwksUri' must use https",
      );
      expect(startupError(withRealms([A], { allowInsecureBackchannel: 'yes' as never }))).toBe(
        "VoxKeyModule: 'allowInsecureBackchannel' must be a boolean",
      );
    });

    it('a back channel with a query, credentials or a fragment', () => {
      for (const backchannelUrl of [
        'https://internal.example?x=1',
        'https://user:pass@internal.example',
        'https://internal.example/#f',
      ]) {
        expect(startupError(withRealms([A, { ...B, backchannelUrl }]))).toBe(
          "VoxKeyModule: 'realms[1].backchannelUrl' must not hold credentials, a query or a fragment",
        );
      }
      expect(startupError(withRealms([{ ...A, backchannelUrl: 'internal:8080' }]))).toContain(
        "'realms[0].backchannelUrl' must use https",
      );
    });

    it('issuerAliases that are not a list of strings', () => {
      for (const issuerAliases of ['https://x', [1], ['']]) {
        expect(startupError(withRealms([A, { ...B, issuerAliases: issuerAliases as never }]))).toBe(
          "VoxKeyModule: 'realms[1].issuerAliases' must be a list of exact issuer URLs",
        );
      }
    });

    it("'realms' empty, not a list, or holding something that is not an object", () => {
      expect(startupError(withRealms([]))).toContain("'realms' must be a non-empty list");
      expect(startupError(withRealms({} as never))).toContain("'realms' must be a non-empty list");
      expect(startupError(withRealms([A, null as never]))).toBe(
        "VoxKeyModule: 'realms[1]' must be an object",
      );
      for (const m2m of ['x', null, ['clientId']]) {
        expect(startupError(withRealms([{ ...A, m2m: m2m as never }]))).toBe(
          "VoxKeyModule: 'realms[0].m2m' must be an object",
        );
      }
    });
  });
});
