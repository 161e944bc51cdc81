import { MAX_TOKEN_LENGTH } from '../voxkey.constants.js';

/** Outcome of reading a call's access token (an `Authorization` header, the token cookie, ...). */
export type BearerCredentials =
  /** `fromCookie`: read from the `tokenLocation.cookie` cookie, not from a header. */
  | {
      readonly kind: 'token';
      readonly token: string;
      readonly fromCookie?: true;
      /** Sent under the `DPoP` scheme (RFC 9449 §7.1): the request must carry a proof. */
      readonly dpop?: true;
    }
  /** No header, an empty one, or another scheme (Basic, DPoP, ...). */
  | { readonly kind: 'missing' }
  /**
   * Credentials that break RFC 6750 §2.1's grammar, or sent in several ways; `detail` is safe to
   * log, `description` a fixed text for the client (the default names the Authorization header).
   */
  | { readonly kind: 'malformed'; readonly detail: string; readonly description?: string }
  | { readonly kind: 'too_large' }
  /** A token cookie on an unsafe request that failed `tokenLocation.csrf`: never verified. */
  | { readonly kind: 'cross_site' };

/** What the parser reads of a request: Express and Fastify requests both fit. */
export interface RequestWithHeaders {
  readonly headers?: Record<string, string | string[] | undefined>;
  /** Node's raw header list (Express). */
  readonly rawHeaders?: readonly string[];
  /** Node's request under a framework's own object (Fastify). */
  readonly raw?: { readonly rawHeaders?: readonly string[] };
}

const SPACE = 0x20;
const TAB = 0x09;
const MISSING: BearerCredentials = { kind: 'missing' };
const TOO_LARGE: BearerCredentials = { kind: 'too_large' };

/**
 * A b64token at `lastIndex`: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then any "="
 * padding. Two character classes in a row, so matching is linear (and cheaper than a loop over
 * each character; bench/README.md).
 * @see RFC 6750 §2.1
 */
const B64TOKEN = /[A-Za-z0-9\-._~+/]+=*/y;

/** Whether the scheme token at `start` is `scheme` (case-insensitive), closed by a space, a tab or the end. */
function hasScheme(value: string, start: number, end: number, scheme: string): boolean {
  const length = scheme.length;
  if (end - start < length || value.slice(start, start + length).toLowerCase() !== scheme) {
    return false;
  }
  const next = value.charCodeAt(start + length);
  return end === start + length || next === SPACE || next === TAB;
}

/**
 * Reads Bearer credentials from an `Authorization` header value in one linear pass:
 * `credentials = "Bearer" 1*SP b64token`, scheme case-insensitive; with `acceptDpop`, also
 * `"DPoP" 1*SP b64token` (then marked `dpop`). A header longer than the token cap is refused
 * before it is scanned.
 * @see RFC 6750 §2.1, RFC 9449 §7.1
 */
export function parseBearerHeader(
  header: string | string[] | undefined,
  acceptDpop = false,
): BearerCredentials {
  if (header === undefined) return MISSING;
  if (typeof header !== 'string')
    return { kind: 'malformed', detail: 'several Authorization values' };

  let start = 0;
  let end = header.length;
  while (start < end && header.charCodeAt(start) === SPACE) start++;
  const dpop = acceptDpop && hasScheme(header, start, end, 'dpop');
  if (!dpop && !hasScheme(header, start, end, 'bearer')) return MISSING;
  // Only the schemes read are capped: a long header of another scheme is still "no token".
  if (end - start > MAX_TOKEN_LENGTH + 64) return TOO_LARGE;
  while (end > start && header.charCodeAt(end - 1) === SPACE) end--;

  let i = start + (dpop ? 4 : 6);
  if (i < end && header.charCodeAt(i) === TAB) {
    return { kind: 'malformed', detail: 'the scheme is not followed by a space' };
  }
  while (i < end && header.charCodeAt(i) === SPACE) i++;
  if (i === end) return { kind: 'malformed', detail: 'empty credentials after the scheme' };

  const tokenStart = i;
  B64TOKEN.lastIndex = tokenStart;
  if (!B64TOKEN.test(header)) {
    return { kind: 'malformed', detail: 'credentials are not a b64token' };
  }
  i = B64TOKEN.lastIndex;
  if (i < end) {
    return header.charCodeAt(i) === SPACE
      ? { kind: 'malformed', detail: 'more than one credential after the scheme' }
      : { kind: 'malformed', detail: 'character outside the b64token set' };
  }
  if (i - tokenStart > MAX_TOKEN_LENGTH) return TOO_LARGE;
  const token = header.slice(tokenStart, i);
  return dpop ? { kind: 'token', token, dpop: true } : { kind: 'token', token };
}

/**
 * Reads a raw token (no scheme), such as a cookie's value: one b64token, at most the token cap.
 * A longer value is refused before it is scanned.
 * @see RFC 6750 §2.1
 */
export function parseB64Token(value: string): BearerCredentials {
  if (value.length > MAX_TOKEN_LENGTH) return TOO_LARGE;
  B64TOKEN.lastIndex = 0;
  if (!B64TOKEN.test(value) || B64TOKEN.lastIndex !== value.length) {
    return { kind: 'malformed', detail: 'the token is not a b64token' };
  }
  return { kind: 'token', token: value };
}

/** Counts `Authorization` fields in Node's raw header list (Node itself keeps only the first). */
export function countAuthorizationHeaders(rawHeaders: readonly string[] | undefined): number {
  if (!rawHeaders) return 0;
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length === 13 && name.toLowerCase() === 'authorization') count++;
  }
  return count;
}

/**
 * The one value of header `name` as the client's connection sent it (Node's raw header list),
 * `'several'` for more than one field, undefined for none. Only the raw list counts: a framework
 * may add headers to `headers` later (Mercurius copies connection_init keys into an upgrade
 * request's headers), and those were never sent by the proxy.
 */
export function singleRawHeader(
  request: RequestWithHeaders,
  name: string,
): string | 'several' | undefined {
  const raw = request.rawHeaders ?? request.raw?.rawHeaders;
  if (raw === undefined) return undefined;
  let value: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i].length !== name.length || raw[i].toLowerCase() !== name) continue;
    if (value !== undefined) return 'several';
    value = raw[i + 1];
  }
  return value;
}

/**
 * The Bearer credentials of a request: one `Authorization` field whose value
 * `parseBearerHeader` reads. Several fields are `malformed` (Node would keep only the first).
 * The one header reader, for the guard (through `readRequestCredentials`) and both strategies.
 * @see RFC 6750 §2.1, RFC 9110 §5.3
 */
export function readBearerCredentials(
  request: RequestWithHeaders,
  acceptDpop = false,
): BearerCredentials {
  if (countAuthorizationHeaders(request.rawHeaders ?? request.raw?.rawHeaders) > 1) {
    return { kind: 'malformed', detail: 'several Authorization headers' };
  }
  return parseBearerHeader(request.headers?.authorization, acceptDpop);
}

/** The request's Bearer token when its credentials are well formed, else null (passport-jwt's `jwtFromRequest`). */
export function bearerTokenFromRequest(request: RequestWithHeaders): string | null {
  const credentials = readBearerCredentials(request);
  return credentials.kind === 'token' ? credentials.token : null;
}
