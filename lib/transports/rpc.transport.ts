import type { ExecutionContext } from '@nestjs/common';
import {
  caseInsensitive,
  combineCredentials,
  headerCredentials,
  rawTokenCredentials,
  errorPayload,
  refusalFields,
  rememberUser,
  tokenOf,
  type Transport,
  userOf,
} from './transport.js';

/** gRPC's `Metadata`, read through its own methods (no @grpc/grpc-js import). */
interface GrpcMetadata {
  get(key: string): unknown[];
  getMap(): Record<string, unknown>;
  set(key: string, value: string): void;
}

/** NATS message headers (`MsgHdrs` of @nats-io), read through their own methods. */
interface NatsHeaders {
  /** All values of a header; `'insensitive'` is NATS's `Match.IgnoreCase`. */
  values?(key: string, match?: string): string[];
}

/** The transports' context objects, as far as the library reads them. */
interface RpcContextLike {
  /** NATS: the message headers. */
  getHeaders?(): NatsHeaders | undefined;
  /** TCP and Redis on NestJS 12: the packet's metadata. */
  getMetadata?(): Record<string, unknown> | undefined;
  /** MQTT 5: the packet's user properties. */
  getPacket?(): { properties?: { userProperties?: Record<string, unknown> } } | undefined;
  /** Kafka (`headers`) and RabbitMQ (`properties.headers`). */
  getMessage?(): {
    headers?: Record<string, unknown>;
    properties?: { headers?: Record<string, unknown> };
  };
}

function isGrpcMetadata(value: unknown): value is GrpcMetadata {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as GrpcMetadata).get === 'function' &&
    typeof (value as GrpcMetadata).getMap === 'function'
  );
}

function rpcContext(context: ExecutionContext): unknown {
  return context.switchToRpc().getContext();
}

/** The message's context object, one per message, which its user is kept on. */
function holderOf(context: ExecutionContext): object | undefined {
  const ctx = rpcContext(context);
  return typeof ctx === 'object' && ctx !== null ? ctx : undefined;
}

/**
 * A header value that may arrive as bytes (Kafka, RabbitMQ) or as a list (gRPC, NATS, MQTT user
 * properties): an empty list is no value, a list of one is that value, a longer one stays a list
 * (several values, malformed).
 */
function headerValue(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    return value.length === 1 ? headerValue(value[0]) : value;
  }
  return value;
}

/** NATS headers' `authorization` values, whatever their letter case (NATS matches exactly by default). */
function natsAuthorization(headers: NatsHeaders | undefined): unknown {
  if (typeof headers?.values === 'function') return headers.values('authorization', 'insensitive');
  return caseInsensitive(headers, 'authorization');
}

/** The `authorization` value of a transport's header place. */
function authorizationOf(ctx: unknown): unknown {
  if (isGrpcMetadata(ctx)) return ctx.get('authorization'); // keys are lower case in gRPC
  if (typeof ctx !== 'object' || ctx === null) return undefined;
  const host = ctx as RpcContextLike;
  if (typeof host.getHeaders === 'function') return natsAuthorization(host.getHeaders());
  if (typeof host.getMetadata === 'function') {
    return caseInsensitive(host.getMetadata(), 'authorization');
  }
  if (typeof host.getPacket === 'function') {
    return caseInsensitive(host.getPacket()?.properties?.userProperties, 'authorization');
  }
  if (typeof host.getMessage === 'function') {
    const message = host.getMessage();
    return caseInsensitive(message?.headers ?? message?.properties?.headers, 'authorization');
  }
  return undefined;
}

const GRPC_STATUS: Readonly<Record<number, number>> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  503: 14, // UNAVAILABLE
};

/**
 * Microservice handlers, one verification per message: gRPC's `authorization` metadata, NATS
 * headers, the packet metadata of TCP and Redis (NestJS 12), MQTT 5 user properties, Kafka and
 * RabbitMQ headers; and `contexts.rpc.getToken`, for a token in the message itself.
 */
export const rpcTransport: Transport = {
  credentials(context, options) {
    const ctx = rpcContext(context);
    const fromTransport = headerCredentials(headerValue(authorizationOf(ctx)));
    const getToken = options.contexts.rpc === false ? undefined : options.contexts.rpc.getToken;
    if (getToken === undefined) return fromTransport;
    // The payload's token (NestJS 11 TCP and Redis, MQTT 3.1.1, ...) besides the transport's own
    // header: one of them is enough, two different ones are malformed as on HTTP.
    const fromOption = rawTokenCredentials(getToken(context.switchToRpc().getData(), ctx));
    return combineCredentials([fromOption, fromTransport]);
  },
  session: () => undefined,
  getUser: (context) => userOf(holderOf(context)),
  setUser: (context, user, token) => rememberUser(holderOf(context), user, token),
  getToken: (context) => tokenOf(holderOf(context)),
  // A message has no HTTP request.
  request: () => undefined,
  async refuse(context, refusal) {
    const { RpcException } = await import('@nestjs/microservices');
    const fields = refusalFields(refusal);
    const { statusCode, error, challenge } = fields;
    const ctx = rpcContext(context);
    if (isGrpcMetadata(ctx)) {
      // Trailers of the incoming metadata's own class, so no gRPC package is imported.
      const metadata = new (ctx.constructor as new () => GrpcMetadata)();
      if (challenge !== undefined) metadata.set('www-authenticate', challenge);
      return new RpcException({ code: GRPC_STATUS[statusCode] ?? 7, message: error, metadata });
    }
    return new RpcException(errorPayload(fields));
  },
};
