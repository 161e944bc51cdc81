import type { IncomingMessage } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { VoxKeySockets } from '../services/voxkey-sockets.service.js';
import { isRefusal, refusalFields } from '../transports/transport.js';

/** Options of `VoxKeyWsAdapter`: `WsAdapter`'s own, and whether upgrades need a valid token. */
export interface VoxKeyWsAdapterOptions {
  /** `WsAdapter`'s message parser. */
  messageParser?: NonNullable<ConstructorParameters<typeof WsAdapter>[1]>['messageParser'];
  /**
   * Refuse an upgrade without a valid token (HTTP 401 with `WWW-Authenticate`, 400 for a
   * malformed credential, 503 when the realm's keys cannot be had) before the socket exists.
   * With `false` every upgrade proceeds and each message is checked by the guards alone.
   * @default true
   */
  authenticateUpgrade?: boolean;
}

/** `ws`'s `verifyClient` callback: proceed, or answer the upgrade with this status and headers. */
type VerifyCallback = (
  verified: boolean,
  code?: number,
  message?: string,
  headers?: Record<string, string>,
) => void;
type VerifyClient =
  | ((info: { req: IncomingMessage }) => boolean)
  | ((info: { req: IncomingMessage }, callback: VerifyCallback) => void);

/**
 * NestJS's `WsAdapter` for gateways on the `ws` package, with VoxKey authentication at the
 * upgrade: a request without a valid token is answered with a real HTTP 401 and its
 * `WWW-Authenticate` challenge (400 if malformed) before the socket exists, and each accepted
 * socket keeps its upgrade request (a `ws` socket keeps none), so the guards check every message
 * against its `Authorization` header. A socket is closed with code 4401 when its token expires
 * (`contexts.ws.closeOnExpiry`). Without this adapter (or `attachVoxKeyHandshake`) every
 * guarded message of a `ws` gateway is refused as "No token".
 *
 * @example
 * const app = await NestFactory.create(AppModule);
 * app.useWebSocketAdapter(new VoxKeyWsAdapter(app));
 * @publicApi
 */
export class VoxKeyWsAdapter extends WsAdapter {
  private readonly authenticateUpgrade: boolean;

  constructor(
    private readonly app: INestApplicationContext,
    { authenticateUpgrade = true, ...options }: VoxKeyWsAdapterOptions = {},
  ) {
    super(app, options);
    this.authenticateUpgrade = authenticateUpgrade;
  }

  /** `WsAdapter.create`, with the upgrade check as the `ws` server's `verifyClient`. */
  override create(
    port: number,
    options: Parameters<WsAdapter['create']>[1] = {},
  ): ReturnType<WsAdapter['create']> {
    if (!this.authenticateUpgrade) return super.create(port, options);
    const own = options.verifyClient as VerifyClient | undefined;
    const verifyClient = (info: { req: IncomingMessage }, callback: VerifyCallback): void => {
      this.sockets.authenticateUpgrade(info.req).then(
        () => {
          // The gateway's own check, if it has one, still has its say.
          try {
            if (own === undefined) callback(true);
            else if (own.length >= 2) own(info, callback);
            else callback((own as (info: { req: IncomingMessage }) => boolean)(info));
          } catch (error) {
            refuseUpgrade(error, callback, this.logger);
          }
        },
        (error: unknown) => refuseUpgrade(error, callback, this.logger),
      );
    };
    return super.create(port, { ...options, verifyClient });
  }

  /** Hands each new socket its upgrade request (and the user it was accepted with) first. */
  override bindClientConnect(
    server: { on(event: string, fn: (client: object, request: IncomingMessage) => void): void },
    callback: (client: object, request: IncomingMessage) => void,
  ): void {
    server.on('connection', (client, request) => {
      this.sockets.attachUpgrade(client, request);
      callback(client, request);
    });
  }

  private get sockets(): VoxKeySockets {
    return this.app.get(VoxKeySockets, { strict: false });
  }
}

/** Answers a refused upgrade with the refusal's status, challenge and `Retry-After`. */
function refuseUpgrade(
  error: unknown,
  callback: VerifyCallback,
  logger: { error(message: string): void },
): void {
  if (!isRefusal(error)) {
    logger.error(
      `Upgrade not authenticated: ${error instanceof Error ? error.name : 'unknown failure'}`,
    );
    return callback(false, 500, 'Internal Server Error');
  }
  const { statusCode, error: message, challenge, retryAfter } = refusalFields(error);
  const headers: Record<string, string> = {};
  if (challenge !== undefined) headers['WWW-Authenticate'] = challenge;
  if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
  callback(false, statusCode, message, headers);
}
