import { type Attributes, type Meter, metrics } from '@opentelemetry/api';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { VOXKEY_CHANNELS } from '../events/event-channels.js';
import type { VoxKeyEvent } from '../events/voxkey-event.interface.js';

/** How `startVoxKeyMetrics()` records. */
export interface VoxKeyMetricsOptions {
  /** The meter to record with. @default metrics.getMeter('@voxkey/nestjs') (the global provider) */
  meter?: Meter;
}

/** Stops recording. */
export interface VoxKeyMetrics {
  stop(): void;
}

/**
 * Records the library's events (`voxkey:*` diagnostics channels) as OpenTelemetry metrics,
 * through `@opentelemetry/api` alone (the application brings the SDK and its exporter):
 *
 * - `voxkey.auth.requests` (counter): guarded calls, by `voxkey.outcome` (`accepted`,
 *   `refused`), `voxkey.context`, `voxkey.realm`, `voxkey.cached`, `error.type` (the refusal
 *   reason, one of `VOXKEY_REFUSAL_REASONS`) and `voxkey.anonymous` (a refused token on an
 *   `@OptionalAuth({ invalidToken: 'anonymous' })` route, served without a user);
 * - `voxkey.auth.duration` (histogram, seconds): time in the guards, by outcome and context;
 * - `voxkey.jwks.fetches` (counter): key-set requests, by realm, `voxkey.trigger`, outcome and
 *   `error.type`; `voxkey.jwks.cooldowns` (counter): fetches the cool-down refused, by realm;
 * - `voxkey.realm.requests` (counter) and `voxkey.realm.duration` (histogram, seconds): calls
 *   to the introspection, revocation and token endpoints, by realm, `voxkey.endpoint` and
 *   outcome.
 *
 * Every attribute has a small, fixed set of values; no token, subject or URL is recorded.
 *
 * @example
 * // main.ts, after the OpenTelemetry SDK has started
 * import { startVoxKeyMetrics } from '@voxkey/nestjs/otel';
 * startVoxKeyMetrics();
 * @see https://opentelemetry.io/docs/specs/semconv/registry/attributes/error/
 */
export function startVoxKeyMetrics(options: VoxKeyMetricsOptions = {}): VoxKeyMetrics {
  const meter = options.meter ?? metrics.getMeter('@voxkey/nestjs');
  const authRequests = meter.createCounter('voxkey.auth.requests', {
    description: 'Calls the VoxKey guards decided, by outcome',
  });
  const authDuration = meter.createHistogram('voxkey.auth.duration', {
    description: 'Time the VoxKey guards spent on a call',
    unit: 's',
  });
  const jwksFetches = meter.createCounter('voxkey.jwks.fetches', {
    description: "Requests to a realm's key set",
  });
  const jwksCooldowns = meter.createCounter('voxkey.jwks.cooldowns', {
    description: 'Key-set fetches refused by the cool-down (unknown kid too soon)',
  });
  const realmRequests = meter.createCounter('voxkey.realm.requests', {
    description: 'Calls to realm endpoints (introspection, revocation, token)',
  });
  const realmDuration = meter.createHistogram('voxkey.realm.duration', {
    description: 'Time a realm endpoint took to answer',
    unit: 's',
  });

  const record = (message: unknown): void => {
    const event = message as VoxKeyEvent;
    switch (event.type) {
      case 'auth.accepted': {
        const attributes: Attributes = {
          'voxkey.outcome': 'accepted',
          'voxkey.context': event.context,
          'voxkey.realm': event.realm,
          'voxkey.cached': event.cached,
        };
        authRequests.add(1, attributes);
        authDuration.record(event.durationMs / 1000, {
          'voxkey.outcome': 'accepted',
          'voxkey.context': event.context,
        });
        return;
      }
      case 'auth.refused': {
        authRequests.add(1, {
          'voxkey.outcome': 'refused',
          'voxkey.context': event.context,
          ...(event.realm === undefined ? {} : { 'voxkey.realm': event.realm }),
          'error.type': event.reason,
          // `@OptionalAuth({ invalidToken: 'anonymous' })`: refused, yet served without a user.
          ...(event.anonymous ? { 'voxkey.anonymous': true } : {}),
        });
        authDuration.record(event.durationMs / 1000, {
          'voxkey.outcome': 'refused',
          'voxkey.context': event.context,
        });
        return;
      }
      case 'jwks.fetch':
        jwksFetches.add(1, {
          'voxkey.realm': event.realm,
          'voxkey.trigger': event.trigger,
          'voxkey.outcome': event.outcome,
          ...(event.error === undefined ? {} : { 'error.type': event.error }),
        });
        return;
      case 'jwks.cooldown':
        jwksCooldowns.add(1, { 'voxkey.realm': event.realm });
        return;
      case 'realm.request': {
        const attributes: Attributes = {
          'voxkey.realm': event.realm,
          'voxkey.endpoint': event.endpoint,
          'voxkey.outcome': event.outcome === 'ok' ? 'ok' : 'error',
          ...(event.outcome === 'ok' ? {} : { 'error.type': event.outcome }),
        };
        realmRequests.add(1, attributes);
        realmDuration.record(event.durationMs / 1000, attributes);
        return;
      }
    }
  };

  // A meter that throws must not become an uncaught exception on the request path.
  const safeRecord = (message: unknown): void => {
    try {
      record(message);
    } catch {
      // Metrics are best effort; the event is dropped.
    }
  };
  const names = Object.values(VOXKEY_CHANNELS);
  for (const name of names) subscribe(name, safeRecord);
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      for (const name of names) unsubscribe(name, safeRecord);
    },
  };
}
