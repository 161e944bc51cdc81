import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { channelOf, familyOf } from './event-channels.js';
import type { VoxKeyEvent, VoxKeyEventType } from './voxkey-event.interface.js';

/**
 * The library's events, typed, for an application that does not want to know the channel names:
 * `on(type, listener)` returns the function that stops listening. A listener that throws (or an
 * async one that rejects) is logged (once per listener) and never changes what the library
 * decided. Listeners left at
 * shutdown are removed.
 *
 * @example
 * constructor(events: VoxKeyEvents) {
 *   events.on('auth.refused', ({ reason, context }) => refusals.inc({ reason, context }));
 * }
 * @publicApi
 */
@Injectable()
export class VoxKeyEvents implements OnApplicationShutdown {
  private readonly logger = new Logger('VoxKeyEvents');
  private readonly unsubscribers = new Set<() => void>();

  /** Calls `listener` with every event of `type`, until the returned function is called. */
  on<T extends VoxKeyEventType>(
    type: T,
    listener: (event: Extract<VoxKeyEvent, { type: T }>) => void | Promise<void>,
  ): () => void {
    const target = channelOf(familyOf(type));
    let failed = false;
    const onError = (error: unknown) => {
      if (!failed) {
        this.logger.error(
          `A '${type}' listener threw (${error instanceof Error ? error.name : 'error'}); the library carries on`,
        );
      }
      failed = true;
    };
    const handler = (message: unknown) => {
      const event = message as VoxKeyEvent;
      if (event.type !== type) return;
      try {
        // An async listener's rejection is caught too: unhandled, it would end the process.
        const result = (listener as (event: VoxKeyEvent) => unknown)(event);
        if (typeof (result as Promise<unknown> | undefined)?.then === 'function') {
          (result as Promise<unknown>).then(undefined, onError);
        }
      } catch (error) {
        onError(error);
      }
    };
    target.subscribe(handler);
    const off = () => {
      target.unsubscribe(handler);
      this.unsubscribers.delete(off);
    };
    this.unsubscribers.add(off);
    return off;
  }

  onApplicationShutdown(): void {
    for (const off of [...this.unsubscribers]) off();
  }
}
