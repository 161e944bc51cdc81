import { publish } from '../../../lib/events/event-channels';
import { startVoxKeyMetrics } from '../../../lib/otel';
import { memoryMeter } from '../../support/otel-reader';

describe('startVoxKeyMetrics (@voxkey/nestjs/otel)', () => {
  it('records each event as the documented counters and histograms, with exact counts', async () => {
    const otel = memoryMeter();
    const recording = startVoxKeyMetrics({ meter: otel.meter });
    const accepted = {
      type: 'auth.accepted',
      context: 'http',
      realm: 'default',
      durationMs: 2,
    } as const;
    publish({ ...accepted, cached: false });
    publish({ ...accepted, cached: true });
    publish({ ...accepted, cached: true });
    for (let i = 0; i < 2; i++) {
      publish({
        type: 'auth.refused',
        context: 'http',
        realm: undefined,
        reason: 'no_token',
        anonymous: false,
        status: 401,
        durationMs: 1,
      });
    }
    publish({
      type: 'auth.refused',
      context: 'graphql',
      realm: 'default',
      reason: 'expired',
      anonymous: false,
      status: 401,
      durationMs: 1,
    });
    publish({
      type: 'jwks.fetch',
      realm: 'default',
      trigger: 'prewarm',
      outcome: 'ok',
      keys: 2,
      durationMs: 5,
    });
    publish({
      type: 'jwks.fetch',
      realm: 'default',
      trigger: 'unknown_kid',
      outcome: 'error',
      error: 'timeout',
      durationMs: 5000,
    });
    publish({ type: 'jwks.cooldown', realm: 'default' });
    publish({
      type: 'realm.request',
      realm: 'default',
      endpoint: 'introspection',
      outcome: 'ok',
      durationMs: 3,
    });
    publish({
      type: 'realm.request',
      realm: 'default',
      endpoint: 'token',
      outcome: 'invalid_client',
      durationMs: 3,
    });
    recording.stop();
    // Nothing is recorded once stopped.
    publish({ ...accepted, cached: false });

    const points = await otel.points();
    const value = (name: string, attributes: Record<string, unknown>) =>
      points.find(
        (p) => p.name === name && JSON.stringify(p.attributes) === JSON.stringify(attributes),
      )?.value;
    expect(
      value('voxkey.auth.requests', {
        'voxkey.outcome': 'accepted',
        'voxkey.context': 'http',
        'voxkey.realm': 'default',
        'voxkey.cached': false,
      }),
    ).toBe(1);
    expect(
      value('voxkey.auth.requests', {
        'voxkey.outcome': 'accepted',
        'voxkey.context': 'http',
        'voxkey.realm': 'default',
        'voxkey.cached': true,
      }),
    ).toBe(2);
    expect(
      value('voxkey.auth.requests', {
        'voxkey.outcome': 'refused',
        'voxkey.context': 'http',
        'error.type': 'no_token',
      }),
    ).toBe(2);
    expect(
      value('voxkey.auth.requests', {
        'voxkey.outcome': 'refused',
        'voxkey.context': 'graphql',
        'voxkey.realm': 'default',
        'error.type': 'expired',
      }),
    ).toBe(1);
    expect(
      value('voxkey.auth.duration', { 'voxkey.outcome': 'accepted', 'voxkey.context': 'http' }),
    ).toBe(3);
    expect(
      value('voxkey.auth.duration', { 'voxkey.outcome': 'refused', 'voxkey.context': 'http' }),
    ).toBe(2);
    expect(
      value('voxkey.jwks.fetches', {
        'voxkey.realm': 'default',
        'voxkey.trigger': 'prewarm',
        'voxkey.outcome': 'ok',
      }),
    ).toBe(1);
    expect(
      value('voxkey.jwks.fetches', {
        'voxkey.realm': 'default',
        'voxkey.trigger': 'unknown_kid',
        'voxkey.outcome': 'error',
        'error.type': 'timeout',
      }),
    ).toBe(1);
    expect(value('voxkey.jwks.cooldowns', { 'voxkey.realm': 'default' })).toBe(1);
    expect(
      value('voxkey.realm.requests', {
        'voxkey.realm': 'default',
        'voxkey.endpoint': 'introspection',
        'voxkey.outcome': 'ok',
      }),
    ).toBe(1);
    expect(
      value('voxkey.realm.requests', {
        'voxkey.realm': 'default',
        'voxkey.endpoint': 'token',
        'voxkey.outcome': 'error',
        'error.type': 'invalid_client',
      }),
    ).toBe(1);
    // The sums of every counter: nothing else was recorded.
    const total = (name: string) =>
      points.filter((p) => p.name === name).reduce((n, p) => n + p.value, 0);
    expect(total('voxkey.auth.requests')).toBe(6);
    expect(total('voxkey.jwks.fetches')).toBe(2);
    expect(total('voxkey.realm.requests')).toBe(2);
    await otel.shutdown();
  });

  it('uses the global meter by default, and stop() is idempotent', () => {
    const recording = startVoxKeyMetrics();
    recording.stop();
    expect(() => recording.stop()).not.toThrow();
  });
});
