import { isValidScopeToken } from '../utils/scopes.util.js';

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
