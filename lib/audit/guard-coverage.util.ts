import type { CanActivate, Type } from '@nestjs/common';
import type { DiscoveryService, Reflector } from '@nestjs/core';
import { GUARDS } from './nest-metadata.constants.js';

type Wrappers = ReturnType<DiscoveryService['getProviders']>;

/** Whether `guard` is `expected`: an instance of it (or of a subclass), the class, or a subclass. */
function isGuard(guard: unknown, expected: Type<CanActivate>): boolean {
  return (
    guard instanceof expected ||
    (typeof guard === 'function' &&
      (guard === expected || (guard.prototype as object) instanceof expected))
  );
}

/** Whether `expected` (or a subclass) is in the handler's or its class's own `@UseGuards()`. */
export function declaresGuard(
  reflector: Reflector,
  handler: () => unknown,
  cls: () => unknown,
  expected: Type<CanActivate>,
): boolean {
  return [
    ...(reflector.get<unknown[] | undefined>(GUARDS, handler) ?? []),
    ...(reflector.get<unknown[] | undefined>(GUARDS, cls) ?? []),
  ].some((guard) => isGuard(guard, expected));
}

/**
 * Whether `expected` (or a subclass) is a global guard registered as an `APP_GUARD` provider,
 * as `globalGuard: true` registers VoxKey's. NestJS marks those providers with the `guard`
 * subtype. A guard given to `app.useGlobalGuards()` is not seen: only the application holds it.
 */
export function hasGlobalGuard(providers: Wrappers, expected: Type<CanActivate>): boolean {
  return providers.some(
    (wrapper) => wrapper.subtype === 'guard' && wrapper.instance instanceof expected,
  );
}
