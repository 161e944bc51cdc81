import { VoxKeyConfigError } from '../errors/voxkey.errors.js';

/** Scope token characters, NQCHAR without the space. @see RFC 6749 §3.3, RFC 6750 §3 */
function isScopeChar(code: number): boolean {
  return code === 0x21 || (code >= 0x23 && code <= 0x5b) || (code >= 0x5d && code <= 0x7e);
}

/** Whether `scope` is a valid scope token, safe to write into a `WWW-Authenticate` header. */
export function isValidScopeToken(scope: unknown): scope is string {
  if (typeof scope !== 'string' || scope.length === 0) return false;
  for (let i = 0; i < scope.length; i++) if (!isScopeChar(scope.charCodeAt(i))) return false;
  return true;
}

function splitOnSpaces(value: string, into: Set<string>): void {
  for (const part of value.split(' ')) if (part !== '') into.add(part);
}

/**
 * The scopes a token grants: the space-delimited `scope` claim or, when the token has no
 * `scope`, the `scp` claim (a list or a string). A `scope` of another type grants nothing.
 * Matching is exact and case-sensitive, so only spaces separate scopes.
 * @see RFC 9068 §2.2.3, RFC 8693 §4.2
 */
export function grantedScopes(claims: Readonly<Record<string, unknown>>): ReadonlySet<string> {
  const granted = new Set<string>();
  const { scope, scp } = claims;
  if (scope !== undefined) {
    if (typeof scope === 'string') splitOnSpaces(scope, granted);
  } else if (typeof scp === 'string') {
    splitOnSpaces(scp, granted);
  } else if (Array.isArray(scp)) {
    for (const item of scp) if (typeof item === 'string' && item !== '') granted.add(item);
  }
  return granted;
}

/** A scope list from a list or a space-delimited string, each a valid scope token. */
export function resolveScopes(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? value.split(' ').filter(Boolean) : value;
  if (!Array.isArray(list) || !list.every(isValidScopeToken)) {
    throw new VoxKeyConfigError(
      `'${name}' must be scope tokens, as a list or a space-delimited string`,
    );
  }
  return [...new Set(list)].sort();
}

/** Checks decorator arguments when the class is defined, so a typo fails at startup. */
export function scopeList(decorator: string, scopes: readonly string[]): string[] {
  if (scopes.length === 0) throw new TypeError(`@${decorator}() needs at least one scope`);
  for (const scope of scopes) {
    if (!isValidScopeToken(scope)) {
      throw new TypeError(
        `@${decorator}(): ${JSON.stringify(scope)} is not a scope token (printable ASCII, no spaces, quotes or backslashes)`,
      );
    }
  }
  return [...scopes];
}
