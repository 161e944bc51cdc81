import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * The package's public surface is a short, explicit list: every name `lib/index.ts` (and
 * `lib/testing/index.ts`) exports, types included, is here, and each is documented in the
 * README's "Public API" section. An internal collaborator that leaks into the index fails this.
 */
const DOCUMENTED: Record<string, string[]> = {
  'lib/index.ts': [
    'AnyScope',
    'attachVoxKeyHandshake',
    'AuthUnavailableException',
    'BearerChallenge',
    'BearerException',
    'BearerToken',
    'CrossSiteRequestException',
    'DpopProofException',
    'DpopRejectionReason',
    'getVoxKeyEndpoints',
    'InjectVoxKeyOptions',
    'InsufficientScopeException',
    'IntrospectionResult',
    'IntrospectionService',
    'InvalidRequestException',
    'InvalidTokenException',
    'M2MToken',
    'M2MTokenRequest',
    'M2MTokenService',
    'McpAuthInfo',
    'MemoryStore',
    'MissingTokenException',
    'OptionalAuth',
    'OptionalAuthOptions',
    'Public',
    'Realm',
    'RealmFromParam',
    'RealmIntrospection',
    'RealmM2MTokens',
    'RealmRevocation',
    'RedisClientLike',
    'RedisStore',
    'RedisStoreOptions',
    'RequireActiveToken',
    'ResolvedVoxKeyOptions',
    'Resource',
    'RevocationService',
    'ScopeRequirements',
    'Scopes',
    'ScopesGuard',
    'TokenRejectionReason',
    'TokenRequestOptions',
    'UnsupportedContextException',
    'UseDpopNonceException',
    'VOXKEY_CHANNELS',
    'VOXKEY_INTROSPECTION_STRATEGY',
    'VOXKEY_MODULE_OPTIONS',
    'VOXKEY_REFUSAL_REASONS',
    'VOXKEY_STRATEGY',
    'VoxKeyAlgorithm',
    'VoxKeyAuthAcceptedEvent',
    'VoxKeyAuthGuard',
    'VoxKeyAuthRefusedEvent',
    'VoxKeyAuditFinding',
    'VoxKeyAuditOptions',
    'VoxKeyAuditRule',
    'VoxKeyBackchannel',
    'VoxKeyClaims',
    'VoxKeyConfigError',
    'VoxKeyConnectionError',
    'voxkeyCorsOptions',
    'VoxKeyCorsOptions',
    'VoxKeyDpopError',
    'VoxKeyDpopOptions',
    'VoxKeyEndpoints',
    'VoxKeyError',
    'VoxKeyErrorCode',
    'VoxKeyEvent',
    'VoxKeyEventContext',
    'VoxKeyEvents',
    'VoxKeyEventType',
    'VoxKeyGraphQL',
    'VoxKeyHealth',
    'VoxKeyHealthIndicator',
    'VoxKeyHealthResult',
    'VoxKeyIntrospectionHealth',
    'VoxKeyIntrospectionOptions',
    'VoxKeyIoSocket',
    'VoxKeyJwksCooldownEvent',
    'VoxKeyJwksError',
    'VoxKeyJwksFetchEvent',
    'VoxKeyJwksOptions',
    'VoxKeyKeySetHealth',
    'VoxKeyM2MOptions',
    'VoxKeyModule',
    'VoxKeyModuleAsyncOptions',
    'VoxKeyModuleExtras',
    'VoxKeyModuleOptions',
    'VoxKeyMtlsOptions',
    'VoxKeyOAuthError',
    'VoxKeyOptionsFactory',
    'VoxKeyRealmHealth',
    'VoxKeyRealmOptions',
    'VoxKeyRealmRequestEvent',
    'VoxKeyRefusalReason',
    'VoxKeyRequestError',
    'VoxKeyResourceMetadataOptions',
    'VoxKeyResourceOptions',
    'VoxKeyRoute',
    'VoxKeyRouteAccess',
    'VoxKeyRouteAudit',
    'VoxKeyRouteContext',
    'VoxKeySockets',
    'VoxKeyStore',
    'VoxKeyTenancyOptions',
    'VoxKeyTenancyRequest',
    'VoxKeyTokenError',
    'VoxKeyTokenLocationOptions',
    'VoxKeyTransportError',
    'VoxKeyUser',
  ],
  'lib/testing/index.ts': [
    'DpopProofOptions',
    'DpopTestKey',
    'MintOptions',
    'signJws',
    'TestRealmAlgorithm',
    'TestRealmOptions',
    'VoxKeyTestRealm',
  ],
  'lib/ws/index.ts': ['VoxKeyWsAdapter', 'VoxKeyWsAdapterOptions'],
  'lib/otel/index.ts': ['startVoxKeyMetrics', 'VoxKeyMetrics', 'VoxKeyMetricsOptions'],
};

const root = join(__dirname, '..', '..');
const entries = Object.keys(DOCUMENTED).map((entry) => join(root, entry));
const program = ts.createProgram(entries, {
  experimentalDecorators: true,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  target: ts.ScriptTarget.ES2022,
  types: [],
});
const checker = program.getTypeChecker();

function exportsOf(entry: string): string[] {
  const source = program.getSourceFile(join(root, entry));
  const symbol = source && checker.getSymbolAtLocation(source);
  if (!symbol) throw new Error(`${entry} is not a module`);
  return checker
    .getExportsOfModule(symbol)
    .map((exported) => exported.name)
    .sort();
}

describe('the public surface', () => {
  it.each(Object.keys(DOCUMENTED))('%s exports exactly the documented list', (entry) => {
    expect(exportsOf(entry)).toEqual([...DOCUMENTED[entry]].sort());
  });

  it('the README documents every export in its Public API section', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const start = readme.indexOf('\n## Public API');
    expect(start).toBeGreaterThan(-1);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const missing = Object.values(DOCUMENTED)
      .flat()
      .filter((name) => !section.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('the main entry loads no optional package statically (only lib/ws/ and lib/otel/ import theirs)', () => {
    const optional =
      /^(@nestjs\/(websockets|platform-ws|platform-socket\.io)|ws|socket\.io|@opentelemetry\/.*)(\/|$)/;
    const offenders = program
      .getSourceFiles()
      .filter((file) => file.fileName.startsWith(join(root, 'lib')))
      .filter((file) => !file.fileName.startsWith(join(root, 'lib', 'ws')))
      .filter((file) => !file.fileName.startsWith(join(root, 'lib', 'otel')))
      .flatMap((file) =>
        file.statements
          .filter(ts.isImportDeclaration)
          .filter((statement) => !statement.importClause?.isTypeOnly)
          .map((statement) => (statement.moduleSpecifier as ts.StringLiteral).text)
          .filter((specifier) => optional.test(specifier))
          .map((specifier) => `${file.fileName}: ${specifier}`),
      );
    expect(offenders).toEqual([]);
  });

  it('nothing in lib/ imports @nestjs/terminus, not even its types: the health indicator only returns its shape', () => {
    const offenders = program
      .getSourceFiles()
      .filter((file) => file.fileName.startsWith(join(root, 'lib')))
      .filter((file) =>
        file.statements.some(
          (statement) =>
            (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
            statement.moduleSpecifier !== undefined &&
            /^@nestjs\/terminus(\/|$)/.test((statement.moduleSpecifier as ts.StringLiteral).text),
        ),
      )
      .map((file) => file.fileName);
    expect(offenders).toEqual([]);
    expect(
      program.getSourceFiles().some((file) => file.fileName.endsWith('voxkey-health.indicator.ts')),
    ).toBe(true);
  });

  it('internal collaborators stay out of the package entry', async () => {
    const lib = await import('../../lib/index');
    for (const internal of [
      'JwksKeyProvider',
      'JwksPrewarm',
      'StartupSummary',
      'VerifiedTokenCache',
      'RevocationList',
    ]) {
      expect(Object.keys(lib)).not.toContain(internal);
    }
  });
});
