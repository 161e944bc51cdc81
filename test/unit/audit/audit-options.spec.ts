import { resolveAudit } from '../../../lib/audit/audit-options';
import { VoxKeyConfigError } from '../../../lib/index';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';

describe('the audit option', () => {
  it('defaults to warn, without requireScopes or ignore', () => {
    expect(resolveAudit(undefined)).toEqual({ mode: 'warn', requireScopes: false, ignore: [] });
  });

  it.each(['warn', 'strict', 'off'] as const)("the string form '%s' is { mode: '%s' }", (mode) => {
    expect(resolveAudit(mode)).toEqual({ mode, requireScopes: false, ignore: [] });
  });

  it('the object form, every field', () => {
    expect(
      resolveAudit({ mode: 'strict', requireScopes: true, ignore: ['HealthController', 'A.b'] }),
    ).toEqual({ mode: 'strict', requireScopes: true, ignore: ['HealthController', 'A.b'] });
    expect(resolveAudit({ requireScopes: true })).toEqual({
      mode: 'warn',
      requireScopes: true,
      ignore: [],
    });
  });

  it.each([
    ['loud', `'audit' must be one of 'warn', 'strict', 'off'`],
    [{ mode: 'error' }, `'audit.mode' must be one of 'warn', 'strict', 'off'`],
    [true, `'audit' must be 'warn', 'strict', 'off' or an object such as { mode: 'strict' }`],
    [['strict'], `'audit' must be 'warn', 'strict', 'off' or an object such as { mode: 'strict' }`],
    [{ requireScopes: 'yes' }, `'audit.requireScopes' must be a boolean`],
    [
      { ignore: 'HealthController' },
      `'audit.ignore' must be a list of 'Class' or 'Class.method' names`,
    ],
    [
      { ignore: ['Health Controller'] },
      `'audit.ignore' must be a list of 'Class' or 'Class.method' names`,
    ],
    [{ ignore: ['A.b.c'] }, `'audit.ignore' must be a list of 'Class' or 'Class.method' names`],
  ])('refuses %j at start-up', (audit, message) => {
    const resolve = () =>
      resolveVoxKeyOptions({
        domain: 'https://id.example.com',
        realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
        audience: 'https://api.example.com',
        audit: audit as never,
      });
    expect(resolve).toThrow(VoxKeyConfigError);
    expect(resolve).toThrow(message);
  });
});
