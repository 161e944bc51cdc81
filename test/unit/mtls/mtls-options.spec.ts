import { VoxKeyConfigError } from '../../../lib/errors/voxkey.errors';
import { resolveMtls } from '../../../lib/mtls/mtls-options';

// The defaults and the basic refusals are in test/unit/dpop/dpop-options.spec.ts.
describe('resolveMtls: what the DPoP options spec leaves out', () => {
  it.each(['socket', 'x-forwarded-client-cert', 'ssl-client-cert'] as const)(
    'accepts the source %s, and freezes the result',
    (certificate) => {
      const mtls = resolveMtls({ certificate, mode: 'required' });
      expect(mtls).toEqual({ certificate, mode: 'required' });
      expect(Object.isFrozen(mtls)).toBe(true);
    },
  );

  it.each([
    ['null', null],
    ['an array', [{ certificate: 'socket' }]],
  ])('refuses %s with the shape it wants', (_, given) => {
    expect(() => resolveMtls(given as never)).toThrow(
      new VoxKeyConfigError(`'mtls' must be an object such as { certificate: 'socket' }`),
    );
  });

  it.each([
    ['no certificate', {}],
    ['a header name in upper case', { certificate: 'SSL-Client-Cert' }],
    ['a PEM instead of a source', { certificate: '-----BEGIN CERTIFICATE-----' }],
  ])('refuses %s, naming the sources', (_, given) => {
    expect(() => resolveMtls(given as never)).toThrow(
      "'mtls.certificate' must be 'socket', 'x-forwarded-client-cert', 'ssl-client-cert' or a function returning the certificate",
    );
  });
});
