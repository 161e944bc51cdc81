import type { ExecutionContext } from '@nestjs/common';

/**
 * Per-route values derived from decorator metadata, computed once per (controller, handler)
 * rather than read with the Reflector on every request. Keyed by class then handler, since an
 * inherited handler can sit under controllers with different class-level metadata.
 */
export class RouteMemo<T> {
  private readonly byClass = new WeakMap<object, WeakMap<object, T>>();

  constructor(private readonly compute: (context: ExecutionContext) => T) {}

  get(context: ExecutionContext): T {
    const cls = context.getClass();
    const handler = context.getHandler();
    let byHandler = this.byClass.get(cls);
    if (!byHandler) this.byClass.set(cls, (byHandler = new WeakMap()));
    let value = byHandler.get(handler);
    if (value === undefined) byHandler.set(handler, (value = this.compute(context)));
    return value;
  }
}
