import { VoxKeyJwksError } from '../errors/voxkey.errors.js';
import { BodyTooLargeError, isAbort, readCappedText } from '../utils/http-body.util.js';

/** Largest JWKS body read, in bytes; a realm's key set is a few kilobytes. */
export const MAX_JWKS_BYTES = 256 * 1024;

/** A JWKS as far as the fetcher checks it: an object with a `keys` array of objects. */
export interface JsonWebKeySet {
  keys: Record<string, unknown>[];
}

/**
 * Builds the function jwks-rsa uses to download the key set: Node's fetch with a timeout that
 * covers the body, no redirects followed, a size cap, and a shape check. Errors are
 * `VoxKeyJwksError`s whose messages hold no response content.
 */
export function createJwksFetcher(
  timeoutMs: number,
  maxBytes = MAX_JWKS_BYTES,
): (uri: string) => Promise<JsonWebKeySet> {
  return async (uri) => {
    let text: string;
    try {
      const response = await fetch(uri, {
        redirect: 'manual',
        headers: { accept: 'application/jwk-set+json, application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new VoxKeyJwksError(`JWKS endpoint answered HTTP ${response.status}`, {
          reason: 'http_error',
        });
      }
      text = await readCappedText(response, maxBytes);
    } catch (error) {
      if (error instanceof VoxKeyJwksError) throw error;
      if (error instanceof BodyTooLargeError) {
        throw new VoxKeyJwksError(`JWKS response is larger than ${maxBytes} bytes`, {
          reason: 'invalid_response',
        });
      }
      const timedOut = isAbort(error);
      throw new VoxKeyJwksError(
        `JWKS endpoint ${timedOut ? `timed out after ${timeoutMs} ms` : 'could not be reached'}`,
        { cause: error, reason: timedOut ? 'timeout' : 'network_error' },
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new VoxKeyJwksError('JWKS response is not JSON', { reason: 'invalid_response' });
    }
    const keys = (body as { keys?: unknown } | null)?.keys;
    if (typeof body !== 'object' || body === null || !Array.isArray(keys)) {
      throw new VoxKeyJwksError('JWKS response is not a key set', { reason: 'invalid_response' });
    }
    // jwks-rsa reads `use` and `kty` off every entry: keep only objects.
    return {
      keys: keys.filter(
        (key): key is Record<string, unknown> =>
          typeof key === 'object' && key !== null && !Array.isArray(key),
      ),
    };
  };
}
