import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { VoxKeyModuleOptions } from '../interfaces/voxkey-module-options.interface.js';

const MODES = ['warn', 'strict', 'off'] as const;

/** A class name, or `Class.method`. */
const HANDLER_NAME = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)?$/;

/** `audit`, validated: a mode alone (`'strict'`) is `{ mode: 'strict' }`. */
export function resolveAudit(given: VoxKeyModuleOptions['audit']): ResolvedVoxKeyOptions['audit'] {
  const options = typeof given === 'string' ? { mode: given } : given;
  if (
    options !== undefined &&
    (typeof options !== 'object' || options === null || Array.isArray(options))
  ) {
    throw new VoxKeyConfigError(
      `'audit' must be 'warn', 'strict', 'off' or an object such as { mode: 'strict' }`,
    );
  }
  const { mode = 'warn', requireScopes = false, ignore = [] } = options ?? {};
  if (!(MODES as readonly unknown[]).includes(mode)) {
    const name = typeof given === 'string' ? 'audit' : 'audit.mode';
    throw new VoxKeyConfigError(
      `'${name}' must be one of ${MODES.map((m) => `'${m}'`).join(', ')}`,
    );
  }
  if (typeof requireScopes !== 'boolean') {
    throw new VoxKeyConfigError(`'audit.requireScopes' must be a boolean`);
  }
  if (
    !Array.isArray(ignore) ||
    !ignore.every((name) => typeof name === 'string' && HANDLER_NAME.test(name))
  ) {
    throw new VoxKeyConfigError(`'audit.ignore' must be a list of 'Class' or 'Class.method' names`);
  }
  return Object.freeze({ mode, requireScopes, ignore: Object.freeze([...ignore]) });
}
