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

/** A dot segment (`.`, `..`, raw or percent-encoded) or a backslash: routers take them literally. */
const AMBIGUOUS_PATH = /\\|(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

/**
 * The URI a request was made to as its clients address it: the configured public URL (an
 * origin, perhaps with the path prefix a proxy strips) and the path the server received, never
 * the `Host` or `X-Forwarded-*` headers. An absolute-form target (RFC 9112 §3.2.2) gives only
 * its path. Undefined when the target is not a path, or holds a dot segment or a backslash: URL
 * parsing would resolve those while Express and Fastify route the raw path, so a proof for one
 * route could be accepted on another.
 * @see RFC 9449 §4.3 (9), RFC 9110 §7.1
 */
export function requestHtu(publicUrl: string, target: string): string | undefined {
  const origin = /^https?:\/\/[^/?#]*/i.exec(target);
  const relative = origin === null ? target : target.slice(origin[0].length) || '/';
  if (!relative.startsWith('/') || relative.startsWith('//')) return undefined;
  const end = relative.search(/[?#]/);
  const path = end === -1 ? relative : relative.slice(0, end);
  if (AMBIGUOUS_PATH.test(path)) return undefined;
  return normalizeHtu(publicUrl.replace(/\/$/, '') + path);
}
