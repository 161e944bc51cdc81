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

/**
 * A class or method decorator that appends `entry` to the list stored under `key`, instead of
 * replacing it as `SetMetadata` would: stacked scope decorators must all apply, never only the
 * outermost one. A subclass starts from its parent's list, so it can add requirements, not drop them.
 */
export function appendMetadata<T>(key: string, entry: T): MethodDecorator & ClassDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = (descriptor?.value ?? target) as object;
    const existing = (Reflect.getMetadata(key, holder) as T[] | undefined) ?? [];
    Reflect.defineMetadata(key, [...existing, entry], holder);
  };
}
