import { grantedScopes, isValidScopeToken } from '../../../lib/utils/scopes.util';

describe('grantedScopes', () => {
  const set = (claims: Record<string, unknown>) => [...grantedScopes(claims)].sort();

  it('splits the scope claim on spaces only', () => {
    expect(set({ scope: 'openid  profile read:posts' })).toEqual([
      'openid',
      'profile',
      'read:posts',
    ]);
    expect(set({ scope: 'a,b\tc' })).toEqual(['a,b\tc']);
    expect(set({ scope: '' })).toEqual([]);
  });
  it('falls back to scp, as a list or a string, only when scope is absent', () => {
    expect(set({ scp: ['a', 'b', 3, ''] })).toEqual(['a', 'b']);
    expect(set({ scp: 'a b' })).toEqual(['a', 'b']);
    expect(set({ scope: 'x', scp: ['a'] })).toEqual(['x']);
  });
  it('a scope of another type grants nothing', () => {
    expect(set({ scope: ['a'], scp: ['b'] })).toEqual([]);
    expect(set({ scope: 1 })).toEqual([]);
    expect(set({})).toEqual([]);
  });
});

describe('scope tokens', () => {
  it.each(['read:posts', 'a', '!#[]~'])('%j is valid', (scope) =>
    expect(isValidScopeToken(scope)).toBe(true),
  );
  it.each(['', 'a b', 'a"b', 'a\\b', 'é', 'a\r\nb', 42])('%j is not', (scope) =>
    expect(isValidScopeToken(scope)).toBe(false),
  );
});
