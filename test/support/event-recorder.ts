import { channel } from 'node:diagnostics_channel';
import {
  VOXKEY_CHANNELS,
  type VoxKeyEvent,
  type VoxKeyEvents,
  type VoxKeyEventType,
} from '../../lib/index';

const TYPES: VoxKeyEventType[] = [
  'auth.accepted',
  'auth.refused',
  'jwks.fetch',
  'jwks.cooldown',
  'realm.request',
];

/** An event as `take()` returns it: without its duration, which was checked to be a number. */
export type RecordedEvent = Record<string, unknown> & { type: VoxKeyEventType };

/**
 * Listens to the library's events twice, on the raw `node:diagnostics_channel` channels and
 * through `VoxKeyEvents.on()`, so a test can check that both see the same events in the same
 * order. Every event ever seen stays in `all` (for the scan for token text).
 */
export class EventRecorder {
  /** Every event received on the raw channels, never cleared. */
  readonly all: VoxKeyEvent[] = [];
  private raw: VoxKeyEvent[] = [];
  private typed: VoxKeyEvent[] = [];
  private offs: (() => void)[] = [];

  /** Subscribes to every channel and, through `events`, to every event type. */
  start(events: VoxKeyEvents): void {
    this.stop();
    for (const name of Object.values(VOXKEY_CHANNELS)) {
      const target = channel(name);
      const listener = (message: unknown) => {
        this.raw.push(message as VoxKeyEvent);
        this.all.push(message as VoxKeyEvent);
      };
      target.subscribe(listener);
      this.offs.push(() => target.unsubscribe(listener));
    }
    for (const type of TYPES) {
      this.offs.push(
        events.on(type, (event) => {
          this.typed.push(event);
        }),
      );
    }
  }

  /** Unsubscribes everything; afterwards the channels have no subscriber of this recorder. */
  stop(): void {
    for (const off of this.offs.splice(0)) off();
  }

  /**
   * The events since the last call, in order, after checking that `VoxKeyEvents` delivered the
   * very same objects and that every `durationMs` is a non-negative number (then left out).
   */
  take(): RecordedEvent[] {
    const raw = this.raw.splice(0);
    const typed = this.typed.splice(0);
    expect(typed).toHaveLength(raw.length);
    typed.forEach((event, i) => expect(event).toBe(raw[i]));
    return raw.map((event) => {
      const { durationMs, ...rest } = event as VoxKeyEvent & { durationMs?: number };
      if (event.type !== 'jwks.cooldown') {
        expect(typeof durationMs).toBe('number');
        expect(durationMs).toBeGreaterThanOrEqual(0);
        expect(Number.isFinite(durationMs)).toBe(true);
      }
      return rest as RecordedEvent;
    });
  }
}

/**
 * Asserts that no event holds any of `tokens`, any segment of them, or their `sub`, `jti` and
 * `iss` (nor any of `secrets`).
 */
export function expectNoTokenText(
  events: readonly VoxKeyEvent[],
  tokens: readonly string[],
  secrets: readonly string[] = [],
): void {
  expect(events.length).toBeGreaterThan(0);
  expect(tokens.length).toBeGreaterThan(0);
  const text = JSON.stringify(events);
  for (const token of tokens) {
    expect(text).not.toContain(token);
    for (const segment of token.split('.')) {
      if (segment.length >= 8) expect(text).not.toContain(segment);
    }
    let claims: Record<string, unknown> = {};
    try {
      claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    } catch {
      // Not a JWT: its text is all there is to look for.
    }
    for (const claim of ['sub', 'jti', 'iss']) {
      const value = claims[claim];
      if (typeof value === 'string') expect(text).not.toContain(value);
    }
  }
  for (const secret of secrets) expect(text).not.toContain(secret);
}
