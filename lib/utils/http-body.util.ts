/** The body was longer than allowed. */
export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`response body is larger than ${maxBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Reads a fetch response body as UTF-8, aborting as soon as it exceeds `maxBytes`
 * (announced by Content-Length or not), so an endless body cannot exhaust memory.
 */
export async function readCappedText(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new BodyTooLargeError(maxBytes);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Seconds to wait from a `Retry-After` value (delay-seconds or HTTP-date), or undefined.
 * @see RFC 9110 §10.2.3
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value === '') return undefined;
  if (/^\d{1,9}$/.test(value)) return Number(value);
  // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT"; Date.parse alone would accept "-1".
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value))
    return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * Whether a fetch failed because its signal fired (timeout or abort). Checked by name: the
 * DOMException may come from another realm, where `instanceof Error` is false.
 */
export function isAbort(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}
