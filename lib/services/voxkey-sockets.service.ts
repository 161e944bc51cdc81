import type { IncomingMessage } from 'node:http';
import { HttpException, Inject, Injectable, type Type } from '@nestjs/common';
import { InjectVoxKeyOptions } from '../decorators/inject-voxkey-options.decorator.js';
import { VoxKeyAuthGuard } from '../guards/voxkey-auth.guard.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';
import { isRefusal, refusalFields, rememberUser, userOf } from '../transports/transport.js';
import {
  attachVoxKeyHandshake,
  closeSocketAtExpiry,
  socketCredentials,
  upgradeCredentials,
} from '../transports/ws.transport.js';

/** A socket.io socket, as far as the middleware reads it (no `socket.io` import). */
export interface VoxKeyIoSocket {
  handshake: { auth?: Record<string, unknown>; headers?: object; query?: object };
  /** The handshake's HTTP request. */
  request: object;
  emit(event: string, ...args: unknown[]): unknown;
  disconnect(close?: boolean): unknown;
}

/**
 * The error a refused socket.io connection is given: the client's `connect_error` has this
 * `message` ('No token', 'Invalid token', 'Invalid request', 'Service Unavailable') and `data`.
 */
export interface VoxKeyConnectionError extends Error {
  data: { statusCode: number; code?: string };
}

/** An upgrade's verification, kept for the socket it becomes. */
interface Accepted {
  user: unknown;
  token: string;
  until: number | undefined;
}

/**
 * Connection-time authentication for WebSocket gateways, which guards never reach: a socket.io
 * middleware that refuses a socket before `handleConnection` runs, and the upgrade check behind
 * `VoxKeyWsAdapter` (`@voxkey/nestjs/ws`). An accepted socket keeps its user for the guards and
 * `@VoxKeyUser()`, and is closed when its token expires (`contexts.ws.closeOnExpiry`). Every
 * message is still checked by the guards (expiry, deny list, scopes).
 *
 * @example
 * @WebSocketGateway()
 * export class PostsGateway implements OnGatewayInit {
 *   constructor(private readonly sockets: VoxKeySockets) {}
 *
 *   afterInit(server: Server) {
 *     server.use(this.sockets.ioMiddleware(this));
 *   }
 * }
 * @publicApi
 */
@Injectable()
export class VoxKeySockets {
  /** Upgrade requests the adapter accepted, until their socket exists. */
  private readonly upgrades = new WeakMap<object, Accepted>();

  constructor(
    @Inject(VoxKeyAuthGuard) private readonly guard: VoxKeyAuthGuard,
    @InjectVoxKeyOptions() private readonly options: ResolvedVoxKeyOptions,
  ) {}

  /**
   * A socket.io middleware (`server.use(...)` in `afterInit`, or a namespace's `use`) that
   * verifies the handshake's token. A refused socket never connects: the client's
   * `connect_error` carries the fixed error (`err.message`) and `err.data: { statusCode, code }`.
   * Given the gateway (`this`, or its class), the token's `aud` must name the protected resource
   * its `@Resource()` names, as at its messages; without it, or without the decorator, the only
   * configured resource, if there is just one.
   */
  ioMiddleware(gateway?: object): (socket: VoxKeyIoSocket, next: (error?: Error) => void) => void {
    const cls = (typeof gateway === 'function' ? gateway : gateway?.constructor) as
      Type | undefined;
    return (socket, next) => {
      this.guard
        .authenticateConnection(socket.request, socketCredentials(socket, this.options), 'ws', cls)
        .then(
          (accepted) => {
            this.adopt(socket, accepted);
            next();
          },
          (error: unknown) => next(connectionError(error)),
        );
    };
  }

  /** The claims of a socket accepted at connection (or by a guarded message), for `handleConnection`. */
  user(socket: object): VoxKeyClaims | undefined {
    return userOf(socket) as VoxKeyClaims | undefined;
  }

  /**
   * Verifies a WebSocket upgrade request (`VoxKeyWsAdapter` calls it before the socket exists):
   * resolves when it may proceed, rejects with the library's refusal (its status and challenge
   * become the HTTP answer).
   */
  async authenticateUpgrade(request: IncomingMessage): Promise<void> {
    const accepted = await this.guard.authenticateConnection(
      request,
      upgradeCredentials(request, this.options),
    );
    this.upgrades.set(request, accepted);
  }

  /**
   * Gives a new `ws` socket its upgrade request, and the user its upgrade was accepted with;
   * `VoxKeyWsAdapter` calls it for every socket.
   */
  attachUpgrade(client: object, request: IncomingMessage): void {
    attachVoxKeyHandshake(client, request);
    const accepted = this.upgrades.get(request);
    if (accepted) this.adopt(client, accepted);
  }

  private adopt(socket: object, { user, token, until }: Accepted): void {
    rememberUser(socket, user, token);
    if (until !== undefined) closeSocketAtExpiry(socket, until, this.options);
  }
}

/**
 * socket.io's `connect_error` for a refusal: the fixed error and `{ statusCode, code }`. A
 * subclass's own `HttpException` gives its status and message; any other failure a generic 500,
 * never its message.
 */
function connectionError(error: unknown): VoxKeyConnectionError {
  if (isRefusal(error)) {
    const { statusCode, error: message, code } = refusalFields(error);
    return Object.assign(new Error(message), {
      data: code === undefined ? { statusCode } : { statusCode, code },
    });
  }
  if (error instanceof HttpException) {
    return Object.assign(new Error(error.message), { data: { statusCode: error.getStatus() } });
  }
  return Object.assign(new Error('Internal server error'), { data: { statusCode: 500 } });
}
