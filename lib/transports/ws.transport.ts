import type { IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import { InvalidTokenException } from '../errors/bearer.exceptions.js';
import { nestMajor } from '../utils/nest-version.util.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { BearerCredentials, RequestWithHeaders } from '../token/bearer-header.parser.js';
import {
  combineCredentials,
  rawTokenCredentials,
  errorPayload,
  refusalFields,
  rememberUser,
  requestCredentials,
  scheduleClose,
  tokenOf,
  type Transport,
  userOf,
} from './transport.js';

/** A socket.io socket, as far as the library reads it. */
interface SocketIoClient {
  handshake: {
    auth?: Record<string, unknown>;
    headers?: RequestWithHeaders['headers'];
    query?: Record<string, unknown>;
  };
  /** The handshake's HTTP request, with its raw header list. */
  request?: RequestWithHeaders;
  emit(event: string, payload: unknown): unknown;
  disconnect(close?: boolean): unknown;
  once?(event: string, fn: () => void): unknown;
}

/** A `ws` socket: it keeps no upgrade request, so the library is handed it at connection. */
interface WsClient {
  close(code: number, reason: string): void;
  send?(data: string): void;
  once?(event: string, fn: () => void): unknown;
}

const handshakes = new WeakMap<object, IncomingMessage>();

/**
 * Gives a `ws` gateway's socket its upgrade request, so that the guards can read its
 * `Authorization` header: call it from `handleConnection(client, request)`. `VoxKeyWsAdapter`
 * (`@voxkey/nestjs/ws`) does it for every socket.
 *
 * @example
 * handleConnection(client: WebSocket, request: IncomingMessage) {
 *   attachVoxKeyHandshake(client, request);
 * }
 */
export function attachVoxKeyHandshake(client: object, request: IncomingMessage): void {
  handshakes.set(client, request);
}

const logger = new Logger('VoxKeyAuthGuard');
const hinted = new WeakSet<object>();

/** Says once per socket, at debug level, why a `ws` socket can have no token. */
function hintHandshake(client: unknown): void {
  if (typeof client !== 'object' || client === null || hinted.has(client)) return;
  hinted.add(client);
  logger.debug(
    "A 'ws' socket has no upgrade request, so no token: use VoxKeyWsAdapter from '@voxkey/nestjs/ws', or call attachVoxKeyHandshake(client, request) in handleConnection",
  );
}

function isSocketIo(client: unknown): client is SocketIoClient {
  return typeof client === 'object' && client !== null && 'handshake' in client;
}

const MISSING: BearerCredentials = { kind: 'missing' };

function queryToken(query: unknown): BearerCredentials {
  if (typeof query !== 'object' || query === null) return MISSING;
  return rawTokenCredentials((query as Record<string, unknown>).access_token);
}

/** The `access_token` query parameter of an upgrade request. */
function upgradeQueryToken(request: IncomingMessage | undefined): BearerCredentials {
  if (!request?.url) return MISSING;
  let values: string[];
  try {
    values = new URL(request.url, 'http://localhost').searchParams.getAll('access_token');
  } catch {
    return { kind: 'malformed', detail: 'the upgrade URL cannot be parsed' };
  }
  if (values.length > 1) return { kind: 'malformed', detail: 'several access_token parameters' };
  return rawTokenCredentials(values[0]);
}

/**
 * A socket's credentials. socket.io: `handshake.auth.token` (raw or `Bearer …`) and the
 * handshake's `Authorization` header; `ws`: the upgrade request's header, given by
 * `VoxKeyWsAdapter` or `attachVoxKeyHandshake`. The `access_token` query parameter only with
 * `allowQueryToken`.
 */
export function socketCredentials(
  client: unknown,
  options: ResolvedVoxKeyOptions,
): BearerCredentials {
  if (isSocketIo(client)) {
    const { auth, headers, query } = client.handshake;
    return combineCredentials([
      rawTokenCredentials(auth?.token),
      requestCredentials(client.request ?? { headers }),
      allowsQueryToken(options) ? queryToken(query) : MISSING,
    ]);
  }
  const request =
    typeof client === 'object' && client !== null ? handshakes.get(client) : undefined;
  if (request === undefined) hintHandshake(client);
  return upgradeCredentials(request, options);
}

/** A WebSocket upgrade request's credentials: its `Authorization` header, and the query token if allowed. */
export function upgradeCredentials(
  request: IncomingMessage | undefined,
  options: ResolvedVoxKeyOptions,
): BearerCredentials {
  return combineCredentials([
    requestCredentials(request),
    allowsQueryToken(options) ? upgradeQueryToken(request) : MISSING,
  ]);
}

function allowsQueryToken(options: ResolvedVoxKeyOptions): boolean {
  return options.contexts.ws !== false && options.contexts.ws.allowQueryToken;
}

/**
 * Closes `client` once `untilSeconds` has passed, unless `closeOnExpiry` is off: a socket.io
 * socket gets the `invalid_token` exception event and a server disconnect, a `ws` socket the
 * close code 4401. Server broadcasts would otherwise keep reaching a socket whose token expired.
 */
export function closeSocketAtExpiry(
  client: unknown,
  untilSeconds: number,
  options: ResolvedVoxKeyOptions,
): void {
  if (options.contexts.ws === false || !options.contexts.ws.closeOnExpiry) return;
  if (isSocketIo(client)) {
    scheduleClose(client, untilSeconds, () => {
      const expired = new InvalidTokenException(options.challengeRealm, 'expired');
      client.emit('exception', errorPayload(refusalFields(expired)));
      client.disconnect(true);
    });
  } else if (typeof client === 'object' && client !== null && 'close' in client) {
    const socket = client as WsClient;
    scheduleClose(socket, untilSeconds, () => socket.close(4401, 'Invalid token'));
  }
}

/**
 * WebSocket gateways: the credentials of the message's socket (`socketCredentials`), one
 * verification per socket; each message re-checks expiry, the deny list and scopes.
 */
export const wsTransport: Transport = {
  credentials: (context, options) => socketCredentials(context.switchToWs().getClient(), options),
  session(context) {
    const client: unknown = context.switchToWs().getClient();
    return typeof client === 'object' && client !== null ? client : undefined;
  },
  getUser: (context) => userOf(wsTransport.session(context)),
  setUser: (context, user, token) => rememberUser(wsTransport.session(context), user, token),
  getToken: (context) => tokenOf(wsTransport.session(context)),
  request(context) {
    const client: unknown = context.switchToWs().getClient();
    if (isSocketIo(client)) return client.request ?? { headers: client.handshake.headers };
    return typeof client === 'object' && client !== null ? handshakes.get(client) : undefined;
  },
  async refuse(context, refusal) {
    const { WsException } = await import('@nestjs/websockets');
    const payload = errorPayload(refusalFields(refusal));
    sendIfNestWillNot(context.switchToWs().getClient(), payload);
    // An object payload: Nest sends it as it is, without echoing the client's message as `cause`.
    return new WsException(payload);
  },
  closeAtExpiry: (context, untilSeconds, options) =>
    closeSocketAtExpiry(context.switchToWs().getClient(), untilSeconds, options),
};

/**
 * NestJS 11's exception filter "emits" on a `ws` socket, which only fires a local event, so the
 * client would hear nothing: there the refusal frame is sent here, as NestJS 12 sends it.
 */
function sendIfNestWillNot(client: unknown, payload: Record<string, unknown>): void {
  const major = nestMajor();
  if (major === undefined || major > 11 || isSocketIo(client)) return;
  const socket = client as Partial<WsClient> | null;
  if (typeof socket?.send === 'function') {
    socket.send(JSON.stringify({ event: 'exception', data: payload }));
  }
}
