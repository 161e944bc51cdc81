/** Characters RFC 3986 §2.3 calls unreserved: their percent-encoded form means the same. */
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * A URI in the form two equivalent URIs share, for comparing a DPoP proof's `htu` with the
 * request: WHATWG parsing (case of scheme and host, default port, dot segments, empty path as
 * `/`), then percent-encodings of unreserved characters decoded and the others' hex in upper
 * case. Reserved characters stay encoded (`%2F` is not `/`). The query and fragment are
 * dropped; undefined for what is not an absolute http(s) URI.
 * @see RFC 9449 §4.3 (9), RFC 3986 §6.2.2, §6.2.3
 */
export function normalizeHtu(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  return `${url.origin}${path}`;
}

/**
 * The URI a request was made to as its clients address it: the configured public URL (an
 * origin, perhaps with the path prefix a proxy strips) and the path the server received, never
 * the `Host` or `X-Forwarded-*` headers. Undefined when the received target is not a path.
 * @see RFC 9449 §4.3 (9), RFC 9110 §7.1
 */
export function requestHtu(publicUrl: string, target: string): string | undefined {
  if (!target.startsWith('/') || target.startsWith('//')) return undefined;
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  return normalizeHtu(publicUrl.replace(/\/$/, '') + path);
}
