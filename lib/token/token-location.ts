import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import {
  type BearerCredentials,
  parseB64Token,
  readBearerCredentials,
  type RequestWithHeaders,
} from './bearer-header.parser.js';
import { findCookie } from './cookie-header.parser.js';

/** An HTTP request as the token locations read it: its headers and its method. */
export interface LocatedRequest extends RequestWithHeaders {
  readonly method?: string;
}

type TokenLocation = ResolvedVoxKeyOptions['tokenLocation'];
type CsrfCheck = NonNullable<TokenLocation['cookie']>['csrf'];

const MISSING: BearerCredentials = { kind: 'missing' };
const CROSS_SITE: BearerCredentials = { kind: 'cross_site' };
const TWO_METHODS: BearerCredentials = {
  kind: 'malformed',
  detail: 'a token in both the Authorization header and the cookie',
  description: 'The access token was sent in more than one way',
};
const BAD_COOKIE = 'The access token cookie is malformed';

/** Methods a browser may send cross-site without a preflight that change nothing (RFC 9110 §9.2.1). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The token cookie's credentials: its raw value, a b64token of at most the token cap. */
function cookieCredentials(request: LocatedRequest, name: string): BearerCredentials {
  const found = findCookie(request.headers?.cookie, name);
  if (found.kind === 'absent') return MISSING;
  if (found.kind === 'duplicate') {
    return { kind: 'malformed', detail: 'the token cookie is sent twice', description: BAD_COOKIE };
  }
  // `name=` is how some apps "clear" a cookie: no token, rather than a malformed one.
  if (found.value === '') return MISSING;
  const credentials = parseB64Token(found.value);
  return credentials.kind === 'malformed'
    ? { ...credentials, detail: 'the token cookie is not a b64token', description: BAD_COOKIE }
    : credentials;
}

/**
 * Whether a request carrying the token cookie may use it. Safe methods always may (they must not
 * change anything). Otherwise, `origins`: the `Origin` header is one of them exactly, or the
 * browser says `Sec-Fetch-Site: same-origin`; `header`: the request carries that header, which a
 * cross-site page can only send after a CORS preflight the API has to allow.
 * @see RFC 6750 §5.3, RFC 6454 §7
 */
export function passesCsrfCheck(request: LocatedRequest, csrf: CsrfCheck): boolean {
  if (typeof request.method === 'string' && SAFE_METHODS.has(request.method)) return true;
  const headers = request.headers ?? {};
  if ('header' in csrf) return headers[csrf.header] !== undefined;
  const origin = headers.origin;
  // Two `Origin` fields reach Node as one joined value, which matches no origin.
  if (typeof origin === 'string' && csrf.origins.includes(origin)) return true;
  return headers['sec-fetch-site'] === 'same-origin';
}

/**
 * An HTTP request's credentials from the configured token locations: the `Authorization` header
 * (unless `header: false`) and the token cookie. A token in both is `invalid_request` (RFC 6750
 * §2: one method per request), even when the two are equal; a malformed source wins; a cookie
 * token on an unsafe request that fails the CSRF check is `cross_site`, before anything reads
 * the token. With `acceptDpop`, the header may also use the `DPoP` scheme.
 * @see RFC 6750 §2, §5.3, RFC 9449 §7.1
 */
export function readRequestCredentials(
  request: LocatedRequest,
  location: TokenLocation,
  acceptDpop = false,
): BearerCredentials {
  const header = location.header ? readBearerCredentials(request, acceptDpop) : MISSING;
  if (location.cookie === undefined) return header;
  if (header.kind === 'malformed' || header.kind === 'too_large') return header;
  const cookie = cookieCredentials(request, location.cookie.name);
  if (cookie.kind === 'missing') return header;
  if (header.kind === 'token') return TWO_METHODS;
  if (cookie.kind !== 'token') return cookie;
  if (!passesCsrfCheck(request, location.cookie.csrf)) return CROSS_SITE;
  return { kind: 'token', token: cookie.token, fromCookie: true };
}
