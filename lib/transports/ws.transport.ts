import type { IncomingMessage } from 'node:http';
import { InvalidTokenException } from '../errors/bearer.exceptions.js';
import type { BearerCredentials, RequestWithHeaders } from '../token/bearer-header.parser.js';
import {
  combineCredentials,
  rawTokenCredentials,
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

function isSocketIo(client: unknown): client is SocketIoClient {
  return typeof client === 'object' && client !== null && 'handshake' in client;
}

function queryToken(query: unknown): BearerCredentials {
  if (typeof query !== 'object' || query === null) return { kind: 'missing' };
  return rawTokenCredentials((query as Record<string, unknown>).access_token);
}

/** The `access_token` query parameter of an upgrade request. */
function upgradeQueryToken(request: IncomingMessage | undefined): BearerCredentials {
  if (!request?.url) return { kind: 'missing' };
  const values = new URL(request.url, 'http://localhost').searchParams.getAll('access_token');
  if (values.length > 1) return { kind: 'malformed', detail: 'several access_token parameters' };
  return rawTokenCredentials(values[0]);
}

/**
 * WebSocket gateways. socket.io: `handshake.auth.token` (raw or `Bearer …`) and the handshake's
 * `Authorization` header; `ws`: the upgrade request's header, given by `VoxKeyWsAdapter` or
 * `attachVoxKeyHandshake`. The `access_token` query parameter only with `allowQueryToken`. One
 * verification per socket; each message re-checks expiry, the deny list and scopes.
 */
export const wsTransport: Transport = {
  credentials(context, options) {
    const client: unknown = context.switchToWs().getClient();
    const allowQuery = options.contexts.ws !== false && options.contexts.ws.allowQueryToken;
    if (isSocketIo(client)) {
      const { auth, headers, query } = client.handshake;
      return combineCredentials([
        rawTokenCredentials(auth?.token),
        requestCredentials(client.request ?? { headers }),
        allowQuery ? queryToken(query) : { kind: 'missing' },
      ]);
    }
    const request =
      typeof client === 'object' && client !== null ? handshakes.get(client) : undefined;
    return combineCredentials([
      requestCredentials(request),
      allowQuery ? upgradeQueryToken(request) : { kind: 'missing' },
    ]);
  },
  session(context) {
    const client: unknown = context.switchToWs().getClient();
    return typeof client === 'object' && client !== null ? client : undefined;
  },
  getUser: (context) => userOf(wsTransport.session(context)),
  setUser: (context, user, token) => rememberUser(wsTransport.session(context), user, token),
  getToken: (context) => tokenOf(wsTransport.session(context)),
  async refuse(_context, refusal) {
    const { WsException } = await import('@nestjs/websockets');
    // An object payload: Nest sends it as it is, without echoing the client's message as `cause`.
    return new WsException(wsPayload(refusalFields(refusal)));
  },
  closeAtExpiry(context, untilSeconds, options) {
    if (options.contexts.ws === false || !options.contexts.ws.closeOnExpiry) return;
    const client: unknown = context.switchToWs().getClient();
    if (isSocketIo(client)) {
      scheduleClose(client, untilSeconds, () => {
        const expired = new InvalidTokenException(options.challengeRealm, 'expired');
        client.emit('exception', wsPayload(refusalFields(expired)));
        client.disconnect(true);
      });
    } else if (typeof client === 'object' && client !== null && 'close' in client) {
      const socket = client as WsClient;
      scheduleClose(socket, untilSeconds, () => socket.close(4401, 'Invalid token'));
    }
  },
};

/** A refusal as a gateway's `exception` event: `{ status: 'error', statusCode, error, code?, scope?, message }`. */
function wsPayload(fields: ReturnType<typeof refusalFields>): Record<string, unknown> {
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
