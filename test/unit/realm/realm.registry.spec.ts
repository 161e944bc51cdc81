import { Logger } from '@nestjs/common';
import { VoxKeyConfigError } from '../../../lib/errors/voxkey.errors';
import type { VoxKeyModuleOptions } from '../../../lib/interfaces/voxkey-module-options.interface';
import { RealmRegistry } from '../../../lib/realm/realm.registry';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';
import { CaptureLogger } from '../../support/capture-logger';

const DOMAIN = 'https://id.example.com';
const UUIDS = [
  '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
  '9b2e4c1d-1f3a-4e5b-8c7d-0a1b2c3d4e5f',
  '3f1c0000-0000-4000-8000-000000000003',
];
const SHARED = 'https://api.example.com';

/** A registry as the module makes it: built, then initialised (when it warns). */
const registry = (options: Partial<VoxKeyModuleOptions>) => {
  const made = new RealmRegistry(resolveVoxKeyOptions({ domain: DOMAIN, ...options }));
  made.onModuleInit();
  return made;
};

describe('RealmRegistry', () => {
  const logger = new CaptureLogger();
  const warnings = () => logger.lines.filter((line) => line.startsWith('warn'));
  beforeAll(() => Logger.overrideLogger(logger));
  beforeEach(() => logger.lines.splice(0));
  afterAll(() => Logger.overrideLogger(false));

  describe('the shared-audience warning (MT-16)', () => {
    it('two realms sharing an audience without tenancy.resolve: one warning naming both', () => {
      registry({
        realms: [
          { id: 'acme', realm: UUIDS[0], audience: SHARED },
          { id: 'globex', realm: UUIDS[1], audience: [SHARED, 'https://globex.example.com'] },
          { id: 'initech', realm: UUIDS[2], audience: 'https://initech.example.com' },
        ],
      });
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toContain("Realms 'acme', 'globex' share the audience");
      expect(warnings()[0]).toContain(SHARED);
      expect(warnings()[0]).not.toContain('initech');
      expect(warnings()[0]).toContain('VoxKeyRealms');
    });

    it('an audience inherited from the top level is shared too', () => {
      registry({
        audience: SHARED,
        realms: [
          { id: 'acme', realm: UUIDS[0] },
          { id: 'globex', realm: UUIDS[1] },
        ],
      });
      expect(warnings()).toEqual([expect.stringContaining("Realms 'acme', 'globex' share")]);
    });

    it('with tenancy.resolve, or distinct audiences, or a single realm: no warning', () => {
      registry({
        realms: [
          { id: 'acme', realm: UUIDS[0], audience: SHARED },
          { id: 'globex', realm: UUIDS[1], audience: SHARED },
        ],
        tenancy: { resolve: () => 'acme' },
      });
      registry({
        realms: [
          { id: 'acme', realm: UUIDS[0], audience: `${SHARED}/acme` },
          { id: 'globex', realm: UUIDS[1], audience: `${SHARED}/globex` },
        ],
      });
      registry({ realm: UUIDS[0], audience: SHARED });
      expect(warnings()).toEqual([]);
    });
  });

  describe('lookups', () => {
    const realms = () =>
      registry({
        realms: [
          { id: 'acme', realm: UUIDS[0], audience: SHARED },
          {
            id: 'globex',
            realm: UUIDS[1],
            audience: `${SHARED}/globex`,
            issuerAliases: ['https://old.example.com/globex'],
          },
        ],
      });

    it('forIssuer matches the exact string only', () => {
      const registryOf = realms();
      expect(registryOf.forIssuer(`${DOMAIN}/oauth2/${UUIDS[0]}`)?.config.id).toBe('acme');
      expect(registryOf.forIssuer('https://old.example.com/globex')?.config.id).toBe('globex');
      for (const variant of [
        `${DOMAIN}/oauth2/${UUIDS[0]}/`,
        `${DOMAIN.toUpperCase()}/oauth2/${UUIDS[0]}`,
        `${DOMAIN}:443/oauth2/${UUIDS[0]}`,
        [`${DOMAIN}/oauth2/${UUIDS[0]}`],
        undefined,
      ]) {
        expect(registryOf.forIssuer(variant)).toBeUndefined();
      }
    });

    it('require names the realm or asks for forRealm; forToken follows a JWT iss', () => {
      const registryOf = realms();
      expect(registryOf.require('globex', 'x').config.id).toBe('globex');
      expect(() => registryOf.require(undefined, 'to introspect')).toThrow(
        "name the realm to introspect (for example forRealm('acme'))",
      );
      expect(() => registryOf.require('nope', 'x')).toThrow(VoxKeyConfigError);
      const payload = Buffer.from(JSON.stringify({ iss: 'https://old.example.com/globex' }));
      const jwt = `e30.${payload.toString('base64url')}.sig`;
      expect(registryOf.forToken(jwt, undefined, 'x').config.id).toBe('globex');
      expect(registryOf.forToken(jwt, 'acme', 'x').config.id).toBe('acme');
      expect(() => registryOf.forToken('opaque', undefined, 'x')).toThrow(/forRealm/);
    });

    it('explainIssuer escapes what is not printable ASCII, so a refused iss cannot reshape the log line', () => {
      const registryOf = realms();
      const iss = `https://evil.example/\u2028forged line\u202egnp.\u00e9\n\u{1f600}`;
      const line = registryOf.explainIssuer(iss);
      expect(line).toMatch(/^[\x20-\x7e]*$/);
      expect(line).toContain(
        'got "https://evil.example/\\u2028forged line\\u202egnp.\\u00e9\\n\\ud83d\\ude00"',
      );
      // What is accepted is the configured issuers, the same on every call.
      expect(line).toContain(`accepted "${DOMAIN}/oauth2/${UUIDS[0]}"`);
      expect(registryOf.explainIssuer('x')).toContain(line.slice(line.indexOf('; accepted')));
      // A long one is cut, and the ellipsis escaped too.
      const long = registryOf.explainIssuer(`https://x.example/${'a'.repeat(300)}`);
      expect(long).toMatch(/^[\x20-\x7e]*$/);
      expect(long).toContain(`${'a'.repeat(182)}\\u2026"`);
      expect(registryOf.explainIssuer(42)).toMatch(/^got number; accepted /);
    });

    it('each realm has its own key set', () => {
      const [acme, globex] = realms().all();
      expect(acme.keys).not.toBe(globex.keys);
    });
  });
});
