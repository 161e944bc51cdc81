import { boundedErrorCode } from '../errors/voxkey.errors.js';
import { listening, publish } from './event-channels.js';
import type { VoxKeyRealmRequestEvent } from './voxkey-event.interface.js';

/**
 * Runs one request to a realm endpoint and, while someone listens to `voxkey:realm`, publishes
 * its `realm.request` event: `ok`, or the failure's code from a fixed set (`boundedErrorCode`: a
 * registered OAuth error code, a transport code, or `other`). The outcome never changes.
 */
export async function observeRealmRequest<T>(
  realm: string,
  endpoint: VoxKeyRealmRequestEvent['endpoint'],
  request: () => Promise<T>,
): Promise<T> {
  if (!listening('realm')) return request();
  const started = performance.now();
  let outcome = 'ok';
  try {
    return await request();
  } catch (error) {
    outcome = boundedErrorCode(error);
    throw error;
  } finally {
    publish({
      type: 'realm.request',
      realm,
      endpoint,
      outcome,
      durationMs: performance.now() - started,
    });
  }
}
