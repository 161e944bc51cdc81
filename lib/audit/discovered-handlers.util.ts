import type { DiscoveryService, MetadataScanner } from '@nestjs/core';

type Wrappers = ReturnType<DiscoveryService['getProviders']>;

/** One method of a discovered controller or provider, as the start-up audits read it. */
export interface DiscoveredHandler {
  /** The class, which carries class-level metadata. */
  readonly cls: () => unknown;
  readonly name: string;
  /** The method itself, which carries handler metadata. */
  readonly handler: () => unknown;
}

/** Every method of the instantiated classes among `wrappers`, with its class. */
export function* discoveredHandlers(
  wrappers: Wrappers,
  scanner: MetadataScanner,
): Generator<DiscoveredHandler> {
  for (const { instance, metatype } of wrappers) {
    if (!instance || typeof metatype !== 'function') continue;
    const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
    for (const name of scanner.getAllMethodNames(prototype)) {
      yield { cls: metatype as () => unknown, name, handler: prototype[name] as () => unknown };
    }
  }
}
