import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import type { ResolvedMtls } from '../interfaces/resolved-voxkey-options.interface.js';
import type { VoxKeyMtlsOptions } from '../interfaces/voxkey-module-options.interface.js';

const SOURCES = ['socket', 'x-forwarded-client-cert', 'ssl-client-cert'] as const;

/** `mtls`, validated; undefined without it (certificate-bound tokens are then refused). @see RFC 8705 §3 */
export function resolveMtls(given: VoxKeyMtlsOptions | undefined): ResolvedMtls | undefined {
  if (given === undefined) return undefined;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new VoxKeyConfigError(`'mtls' must be an object such as { certificate: 'socket' }`);
  }
  const { certificate, mode = 'allowed' } = given;
  if (typeof certificate !== 'function' && !(SOURCES as readonly unknown[]).includes(certificate)) {
    throw new VoxKeyConfigError(
      `'mtls.certificate' must be ${SOURCES.map((s) => `'${s}'`).join(', ')} or a function returning the certificate`,
    );
  }
  if (mode !== 'allowed' && mode !== 'required') {
    throw new VoxKeyConfigError(`'mtls.mode' must be 'allowed' or 'required'`);
  }
  return Object.freeze({ certificate, mode });
}
