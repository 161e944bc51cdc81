import { type ExecutionContext, HttpException, HttpStatus } from '@nestjs/common';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { BearerCredentials, RequestWithHeaders } from '../token/bearer-header.parser.js';
import { type LocatedRequest, readRequestCredentials } from '../token/token-location.js';
import {
  caseInsensitive,
  combineCredentials,
  headerCredentials,
  rawTokenCredentials,
  refusalFields,
  rememberUser,
  requestCredentials,
  scheduleClose,
  tokenOf,
  type Transport,
  userOf,
} from './transport.js';

/** A subscription's WebSocket, as far as closing it goes. */
interface SubscriptionSocket {
  close(code: number, reason: string): void;
  once?(event: string, fn: () => void): void;
}

/**
 * Where `VoxKeyGraphQL.mercuriusContext` keeps a Mercurius subscription's socket in its context
 * (Mercurius gives resolvers no other way to reach it).
 */
export const MERCURIUS_SOCKET: unique symbol = Symbol.for('voxkey:mercurius-socket');

/** What a GraphQL resolver's context may hold, across Apollo, Mercurius and graphql-ws. */
interface GraphQLContext {
  /** Mercurius subscriptions set up with `VoxKeyGraphQL.mercuriusContext`: the socket. */
  [MERCURIUS_SOCKET]?: SubscriptionSocket;
  /** Apollo and Mercurius over HTTP: the request. Apollo over graphql-ws: the graphql-ws context. */
  req?: (LocatedRequest & { user?: unknown }) | GraphQLWsContext;
  /** Mercurius over HTTP: the Fastify reply (an Apollo `context` may pass it too). */
  reply?: { header?: (name: string, value: string) => unknown };
  /** Mercurius subscriptions: the upgrade request and the `connection_init` payload. */
  request?: RequestWithHeaders;
  _connectionInit?: Record<string, unknown>;
}

/** graphql-ws's per-connection context, as the Apollo driver hands it to resolvers. */
export interface GraphQLWsContext {
  connectionParams?: Record<string, unknown>;
  extra?: {
    request?: RequestWithHeaders;
    socket?: SubscriptionSocket;
  };
}

const GRAPHQL_CODES: Readonly<Record<number, string>> = {
  [HttpStatus.BAD_REQUEST]: 'BAD_REQUEST',
  [HttpStatus.UNAUTHORIZED]: 'UNAUTHENTICATED',
  [HttpStatus.FORBIDDEN]: 'FORBIDDEN',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'SERVICE_UNAVAILABLE',
};

/**
 * A refusal as a GraphQL error: an `HttpException` (so Nest logs it as an expected outcome) with
 * its own `extensions`, which graphql-js copies into the error on every driver and transport.
 * Messages are the library's fixed ones. Its body has no `statusCode`, so @nestjs/apollo's
 * error transform (which keys on one) leaves it alone: otherwise it would rewrite a 503's code
 * to `INTERNAL_SERVER_ERROR` and add an `originalError` Mercurius does not have, and the
 * extensions would differ between drivers.
 */
export class VoxKeyGraphQLError extends HttpException {
  readonly extensions: Record<string, unknown>;

  constructor(refusal: HttpException, extensions: Record<string, unknown>) {
    const { error, message } = refusalFields(refusal);
    super({ error, message }, refusal.getStatus());
    this.extensions = extensions;
  }
}

/** The resolver's context: `args[2]`, or `args[1]` for three-argument resolvers (`resolveType`, federation references). */
function graphqlContext(context: ExecutionContext): GraphQLContext {
  const args = context.getArgs();
  const candidate: unknown = args.length === 3 ? args[1] : args[2];
  return typeof candidate === 'object' && candidate !== null ? (candidate as GraphQLContext) : {};
}

function isWsContext(req: GraphQLContext['req']): req is GraphQLWsContext {
  return typeof req === 'object' && req !== null && ('connectionParams' in req || 'extra' in req);
}

/** Tokens in a subscription's `connectionParams` (or Mercurius's `connection_init` payload). */
function paramsCredentials(params: unknown, key: string | undefined): BearerCredentials[] {
  if (typeof params !== 'object' || params === null) return [];
  return [
    headerCredentials(caseInsensitive(params, 'authorization')),
    headerCredentials(caseInsensitive(caseInsensitive(params, 'headers'), 'authorization')),
    key === undefined
      ? { kind: 'missing' }
      : rawTokenCredentials((params as Record<string, unknown>)[key]),
  ];
}

/** The configured raw-token `connectionParams` key, if any. */
function paramsKey(options: ResolvedVoxKeyOptions): string | undefined {
  return options.contexts.graphql ? options.contexts.graphql.connectionParamsKey : undefined;
}

/**
 * A graphql-ws connection's credentials: `connectionParams` (`authorization` in any letter case,
 * `headers.authorization`, the configured raw-token key) and the upgrade request's header, which
 * must agree.
 */
export function graphqlWsCredentials(
  ctx: GraphQLWsContext,
  options: ResolvedVoxKeyOptions,
): BearerCredentials {
  return combineCredentials([
    ...paramsCredentials(ctx.connectionParams, paramsKey(options)),
    requestCredentials(ctx.extra?.request),
  ]);
}

/** The credentials of a Mercurius `connection_init` payload (`connectionParams`). */
export function connectionInitCredentials(
  payload: unknown,
  options: ResolvedVoxKeyOptions,
): BearerCredentials {
  return combineCredentials(paramsCredentials(payload, paramsKey(options)));
}

/**
 * Closes a subscription's socket with 4403 once its token stops being accepted
 * (`closeOnExpiry`): 4403 is "forbidden", after which the graphql-ws client reconnects with
 * fresh `connectionParams` (4401 would be fatal to it).
 */
export function closeSubscriptionAtExpiry(
  socket: SubscriptionSocket | undefined,
  untilSeconds: number,
  options: ResolvedVoxKeyOptions,
): void {
  if (typeof socket?.close !== 'function') return;
  if (!options.contexts.graphql || !options.contexts.graphql.closeOnExpiry) return;
  scheduleClose(socket, untilSeconds, () => socket.close(4403, 'Invalid token'));
}

/** The object one operation (over HTTP) or one connection (subscriptions) shares. */
function sessionOf(ctx: GraphQLContext): object | undefined {
  return ctx.req ?? ctx.request;
}

/**
 * GraphQL resolvers: the HTTP request's `Authorization` header for queries and mutations; for
 * subscriptions, `connectionParams` (`authorization` in any letter case, `headers.authorization`,
 * or the configured raw-token key) and the upgrade request's header, which must agree.
 */
export const graphqlTransport: Transport = {
  credentials(context, options) {
    const ctx = graphqlContext(context);
    if (isWsContext(ctx.req)) return graphqlWsCredentials(ctx.req, options);
    // Over HTTP, the operation's request: its header and, with `tokenLocation.cookie`, the cookie.
    if (ctx.req !== undefined) {
      return typeof ctx.req.headers === 'object'
        ? readRequestCredentials(ctx.req, options.tokenLocation, options.dpop.mode !== 'off')
        : { kind: 'missing' };
    }
    // Mercurius copies connection_init keys into the upgrade request's headers when absent there.
    return combineCredentials([
      ...paramsCredentials(ctx._connectionInit, paramsKey(options)),
      requestCredentials(ctx.request),
    ]);
  },
  session: (context) => sessionOf(graphqlContext(context)),
  getUser(context) {
    const ctx = graphqlContext(context);
    if (ctx.req !== undefined && !isWsContext(ctx.req) && ctx.req.user !== undefined)
      return ctx.req.user;
    return userOf(sessionOf(ctx));
  },
  setUser(context, user, token) {
    const ctx = graphqlContext(context);
    // `req.user`, the shape the NestJS recipes use, where there is a request.
    if (ctx.req !== undefined && !isWsContext(ctx.req)) ctx.req.user = user;
    rememberUser(sessionOf(ctx), user, token);
  },
  getToken: (context) => tokenOf(sessionOf(graphqlContext(context))),
  request(context) {
    const ctx = graphqlContext(context);
    return isWsContext(ctx.req) ? ctx.req.extra?.request : (ctx.req ?? ctx.request);
  },
  // Queries and mutations over HTTP only: a subscription's upgrade request holds headers
  // Mercurius copies in from connection_init.
  httpRequest(context) {
    const ctx = graphqlContext(context);
    return ctx.req !== undefined && !isWsContext(ctx.req) ? ctx.req : undefined;
  },
  refuse(context, refusal) {
    const ctx = graphqlContext(context);
    const { statusCode, error, code, scope, challenge, resourceMetadata, retryAfter, dpopNonce } =
      refusalFields(refusal);
    const extensions: Record<string, unknown> = {
      code: GRAPHQL_CODES[statusCode] ?? 'FORBIDDEN',
      statusCode,
      error,
      ...(code === undefined ? {} : { oauthError: code }),
      ...(scope === undefined ? {} : { scope }),
      // On a protected resource's route the whole challenge, for clients that see no headers
      // (subscriptions over WebSocket, Apollo's stripped `http` extension).
      ...(resourceMetadata === undefined ? {} : { resourceMetadata, wwwAuthenticate: challenge }),
    };
    const headers = new Map<string, string>();
    if (challenge !== undefined) headers.set('www-authenticate', challenge);
    if (retryAfter !== undefined) headers.set('retry-after', String(retryAfter));
    if (dpopNonce !== undefined) {
      headers.set('dpop-nonce', dpopNonce);
      headers.set('cache-control', 'no-store');
    }
    if (typeof ctx.reply?.header === 'function') {
      // Mercurius: on the reply; an `http` extension would reach the client there.
      for (const [name, value] of headers) ctx.reply.header(name, value);
    } else if (ctx.req !== undefined && !isWsContext(ctx.req)) {
      // Apollo over HTTP sets these response headers and strips `http` from the error; the status
      // applies only with `preserveHttpStatusForExecutionErrors: false` (Nest resets it to 200).
      extensions.http = { headers, status: statusCode };
    }
    return Promise.resolve(new VoxKeyGraphQLError(refusal, extensions));
  },
  announce(context, refusal) {
    const ctx = graphqlContext(context);
    // Mercurius's reply, or the Express response Apollo's request links to (`req.res`); Apollo on
    // Fastify gives resolvers no response unless the app's `context` passes `reply`.
    const req = isWsContext(ctx.req) ? undefined : (ctx.req as { res?: unknown } | undefined);
    const response = (ctx.reply ?? req?.res) as
      { header?: (name: string, value: string) => unknown } | undefined;
    if (typeof response?.header === 'function') {
      response.header('www-authenticate', refusal.wwwAuthenticate);
    }
  },
  closeAtExpiry(context, untilSeconds, options) {
    const ctx = graphqlContext(context);
    const socket = isWsContext(ctx.req) ? ctx.req.extra?.socket : ctx[MERCURIUS_SOCKET];
    closeSubscriptionAtExpiry(socket, untilSeconds, options);
  },
};
