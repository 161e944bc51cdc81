import type { ExecutionContext, HttpException } from '@nestjs/common';
import {
  AuthUnavailableException,
  BearerException,
  CrossSiteRequestException,
  UnsupportedContextException,
  UseDpopNonceException,
} from '../errors/bearer.exceptions.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import {
  type BearerCredentials,
  parseBearerHeader,
  type RequestWithHeaders,
  readBearerCredentials,
} from '../token/bearer-header.parser.js';

/** The execution contexts NestJS has, declared here so that no transport package is imported. */
export type VoxKeyContextType = 'http' | 'graphql' | 'ws' | 'rpc';

/**
 * How the guards read and answer one kind of execution context. Each transport finds the call's
 * credentials, says which object a connection or an operation shares across guard calls, keeps
 * the user where the decorators find it, and turns a refusal into its own error form.
 */
export interface Transport {
  /** The call's Bearer credentials from every source it has; two different ones are malformed. */
  credentials(context: ExecutionContext, options: ResolvedVoxKeyOptions): BearerCredentials;
  /**
   * The object several guard calls share (a GraphQL operation's request, a socket, a
   * subscription's connection), so its token is verified once; undefined when each call stands
   * alone.
   */
  session(context: ExecutionContext): object | undefined;
  getUser(context: ExecutionContext): unknown;
  /**
   * Keeps the verified user, and the token it came from, for the handler's decorators; no user
   * (an anonymous `@OptionalAuth()` call) leaves nothing for them.
   */
  setUser(context: ExecutionContext, user: unknown, token?: string): void;
  /** The token the guard verified for this call, once it has. */
  getToken(context: ExecutionContext): string | undefined;
  /**
   * The HTTP request behind the call, when it has one: the route's, a GraphQL operation's, a
   * socket's handshake or upgrade request (read for `tenancy.resolve` and `@RealmFromParam()`).
   */
  request(context: ExecutionContext): RequestWithHeaders | undefined;
  /**
   * The HTTP request the call itself is (a route's, a GraphQL query's or mutation's), against
   * which a token's binding can be proved; undefined for sockets, subscriptions and messages,
   * whose upgrade or handshake requests carry no per-call proof (and may hold headers a
   * framework copied in from the client's payload).
   */
  httpRequest?(context: ExecutionContext): RequestWithHeaders | undefined;
  /** The refusal in this transport's own form (HTTP: the exception, with its challenge header). */
  refuse(context: ExecutionContext, refusal: HttpException): Promise<Error>;
  /**
   * Tells the client of a refusal the route let pass as anonymous
   * (`@OptionalAuth({ invalidToken: 'anonymous' })`), where the transport has response headers:
   * the refusal's `WWW-Authenticate` challenge on the response.
   * @see RFC 6750 §3
   */
  announce?(context: ExecutionContext, refusal: BearerException): void;
  /**
   * Called after a session's token is verified: arranges for the connection to be closed when
   * the token stops being valid (`untilSeconds`), where the transport holds one open.
   */
  closeAtExpiry?(
    context: ExecutionContext,
    untilSeconds: number,
    options: ResolvedVoxKeyOptions,
  ): void;
}

/** Users of calls that have no request object of their own (sockets, RPC contexts), and their tokens. */
const users = new WeakMap<object, { user: unknown; token: string }>();

/** The user the guard verified for a call of `holder` (a socket, an RPC context). */
export function userOf(holder: object | undefined): unknown {
  return holder === undefined ? undefined : users.get(holder)?.user;
}

/** The token that user came from. */
export function tokenOf(holder: object | undefined): string | undefined {
  return holder === undefined ? undefined : users.get(holder)?.token;
}

/** Drops what was kept for `holder`, once a call of it is refused. */
export function forgetUser(holder: object): void {
  users.delete(holder);
}

/** Keeps a verified user and its token for the later reads of `holder`'s handlers; no user forgets. */
export function rememberUser(holder: object | undefined, user: unknown, token?: string): void {
  if (holder === undefined) return;
  if (user === undefined || token === undefined) users.delete(holder);
  else users.set(holder, { user, token });
}

const MISSING: BearerCredentials = { kind: 'missing' };

/** Credentials of a source that holds a raw token (socket.io `auth.token`), `Bearer <token>` also accepted. */
export function rawTokenCredentials(value: unknown): BearerCredentials {
  if (value === undefined || value === null || value === '') return MISSING;
  if (typeof value !== 'string') return { kind: 'malformed', detail: 'the token is not a string' };
  return parseBearerHeader(/^\s*bearer[ \t]/i.test(value) ? value : `Bearer ${value}`);
}

/** Credentials of a source that holds an `Authorization` value (`Bearer <token>`). */
export function headerCredentials(value: unknown): BearerCredentials {
  if (value === undefined || value === null) return MISSING;
  if (typeof value !== 'string')
    return { kind: 'malformed', detail: 'several Authorization values' };
  return parseBearerHeader(value);
}

/** A request's credentials, or missing when there is no request. */
export function requestCredentials(request: RequestWithHeaders | undefined): BearerCredentials {
  return request && typeof request.headers === 'object' ? readBearerCredentials(request) : MISSING;
}

/**
 * One call's credentials from all its sources: a refused source (malformed, too large) wins, two different tokens are
 * malformed (RFC 6750 §3.1 `invalid_request`), the same token twice is one.
 */
export function combineCredentials(sources: readonly BearerCredentials[]): BearerCredentials {
  let found: BearerCredentials = MISSING;
  for (const credentials of sources) {
    if (credentials.kind !== 'token' && credentials.kind !== 'missing') return credentials;
    if (credentials.kind !== 'token') continue;
    if (found.kind === 'token' && found.token !== credentials.token) {
      return { kind: 'malformed', detail: 'two different credentials for one call' };
    }
    found = credentials;
  }
  return found;
}

/** The value of `name` in `record` whatever its letter case; several spellings are several values. */
export function caseInsensitive(record: unknown, name: string): unknown {
  if (typeof record !== 'object' || record === null) return undefined;
  const values = Object.keys(record)
    .filter((key) => key.toLowerCase() === name)
    .map((key) => (record as Record<string, unknown>)[key]);
  return values.length > 1 ? values : values[0];
}

/** The fields of a refusal that every transport's error form is built from. */
export interface RefusalFields {
  statusCode: number;
  error: string;
  message: string;
  /** The RFC 6750 error code (`invalid_token`, ...), absent for "no token" and outages. */
  code?: string;
  /** The scopes a 403 asks for. */
  scope?: string;
  /** The `WWW-Authenticate` challenge, for transports that carry headers. */
  challenge?: string;
  /** The challenge's `resource_metadata` URL, on a protected resource's route. */
  resourceMetadata?: string;
  /** Seconds after which an outage may be over. */
  retryAfter?: number;
  /** The DPoP nonce the client must use (`use_dpop_nonce`), for the `DPoP-Nonce` header. */
  dpopNonce?: string;
}

/** The fields of one of the library's refusals (its body is `{ statusCode, error, message }`). */
export function refusalFields(refusal: HttpException): RefusalFields {
  const body = refusal.getResponse() as { error?: string; message?: string };
  return {
    statusCode: refusal.getStatus(),
    error: body.error ?? 'Error',
    message: body.message ?? refusal.message,
    code: refusal instanceof BearerException ? refusal.oauthError : undefined,
    scope: refusal instanceof BearerException ? refusal.scope : undefined,
    challenge: refusal instanceof BearerException ? refusal.wwwAuthenticate : undefined,
    resourceMetadata: refusal instanceof BearerException ? refusal.resourceMetadata : undefined,
    retryAfter: refusal instanceof AuthUnavailableException ? refusal.retryAfter : undefined,
    dpopNonce: refusal instanceof UseDpopNonceException ? refusal.nonce : undefined,
  };
}

/**
 * A refusal as the message-based transports send it (a gateway's `exception` event, an RPC
 * error): `{ status: 'error', statusCode, error, code?, scope?, message }`.
 */
export function errorPayload(fields: RefusalFields): Record<string, unknown> {
  const { statusCode, error, code, scope, message } = fields;
  return {
    status: 'error',
    statusCode,
    error,
    ...(code === undefined ? {} : { code }),
    ...(scope === undefined ? {} : { scope }),
    message,
  };
}

/** The library's own refusals, which each transport answers in its own form. */
export function isRefusal(error: unknown): error is HttpException {
  return (
    error instanceof BearerException ||
    error instanceof AuthUnavailableException ||
    error instanceof UnsupportedContextException ||
    error instanceof CrossSiteRequestException
  );
}

const closers = new WeakMap<object, NodeJS.Timeout>();
/** Sockets whose `close` and `disconnect` already clear their timer. */
const watched = new WeakSet<object>();

/** Runs `close` once `untilSeconds` has passed, unless the socket closes first; one timer per socket. */
export function scheduleClose(
  socket: { once?(event: string, fn: () => void): unknown },
  untilSeconds: number,
  close: () => void,
): void {
  const forget = () => {
    clearTimeout(closers.get(socket));
    closers.delete(socket);
  };
  forget();
  const delay = Math.max(0, untilSeconds * 1000 - Date.now());
  // setTimeout's longest delay; a token living longer is checked again at each message anyway.
  if (delay > 2_147_483_647) return;
  const timer = setTimeout(() => {
    closers.delete(socket);
    try {
      close();
    } catch {
      // A socket that cannot be closed any more is already gone.
    }
  }, delay);
  timer.unref();
  closers.set(socket, timer);
  // Once per socket: one re-verified at every message (introspection mode) would otherwise gain
  // two listeners per message for as long as it stays open.
  if (watched.has(socket)) return;
  watched.add(socket);
  for (const event of ['close', 'disconnect']) socket.once?.(event, forget);
}

/**
 * The execution context of a connection being opened (a socket.io handshake, a WebSocket
 * upgrade, a subscription's `connection_init`): an HTTP context whose request is the handshake,
 * so `handleRequest` and `getRequest` overrides see what they would on a route. It has no
 * handler or class: route metadata does not apply to a connection.
 */
export function handshakeContext(request: object): ExecutionContext {
  const http = {
    getRequest: () => request,
    getResponse: () => undefined,
    getNext: () => undefined,
  };
  const unavailable = () => {
    throw new TypeError('a connection handshake is an HTTP context');
  };
  return {
    getType: () => 'http',
    getClass: () => Object,
    getHandler: () => handshakeContext,
    getArgs: () => [request],
    getArgByIndex: (index: number) => (index === 0 ? request : undefined),
    switchToHttp: () => http,
    switchToRpc: unavailable,
    switchToWs: unavailable,
  } as unknown as ExecutionContext;
}
