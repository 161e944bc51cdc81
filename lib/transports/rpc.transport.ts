import type { ExecutionContext } from '@nestjs/common';
import type { BearerCredentials } from '../token/bearer-header.parser.js';
import {
  headerCredentials,
  rawTokenCredentials,
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

/** The transports' context objects, as far as the library reads them. */
interface RpcContextLike {
  /** NATS: the message headers. */
  getHeaders?(): { get?(key: string): string; values?(key: string): string[] } | undefined;
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

/** A header value that may arrive as bytes (Kafka) or as a list. */
function headerValue(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (Array.isArray(value)) return value.length === 1 ? headerValue(value[0]) : value;
  return value;
}

/** The message's credentials, from where its transport carries headers. */
function transportCredentials(ctx: unknown): BearerCredentials {
  if (isGrpcMetadata(ctx)) return headerCredentials(headerValue(ctx.get('authorization')));
  if (typeof ctx !== 'object' || ctx === null) return { kind: 'missing' };
  const host = ctx as RpcContextLike;
  if (typeof host.getHeaders === 'function') {
    const headers = host.getHeaders();
    const values = headers?.values?.('authorization') ?? [];
    return headerCredentials(values.length === 0 ? undefined : headerValue(values));
  }
  if (typeof host.getMetadata === 'function') {
    return headerCredentials(headerValue(host.getMetadata()?.authorization));
  }
  if (typeof host.getPacket === 'function') {
    return headerCredentials(
      headerValue(host.getPacket()?.properties?.userProperties?.authorization),
    );
  }
  if (typeof host.getMessage === 'function') {
    const message = host.getMessage();
    return headerCredentials(
      headerValue(message?.headers?.authorization ?? message?.properties?.headers?.authorization),
    );
  }
  return { kind: 'missing' };
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
 * RabbitMQ headers; `contexts.rpc.getToken` where the transport has none.
 */
export const rpcTransport: Transport = {
  credentials(context, options) {
    const getToken = options.contexts.rpc === false ? undefined : options.contexts.rpc.getToken;
    if (getToken !== undefined) {
      return rawTokenCredentials(getToken(context.switchToRpc().getData(), rpcContext(context)));
    }
    return transportCredentials(rpcContext(context));
  },
  session: () => undefined,
  getUser: (context) => userOf(holderOf(context)),
  setUser: (context, user, token) => rememberUser(holderOf(context), user, token),
  getToken: (context) => tokenOf(holderOf(context)),
  async refuse(context, refusal) {
    const { RpcException } = await import('@nestjs/microservices');
    const { statusCode, error, code, scope, message, challenge } = refusalFields(refusal);
    const ctx = rpcContext(context);
    if (isGrpcMetadata(ctx)) {
      // Trailers of the incoming metadata's own class, so no gRPC package is imported.
      const metadata = new (ctx.constructor as new () => GrpcMetadata)();
      if (challenge !== undefined) metadata.set('www-authenticate', challenge);
      return new RpcException({ code: GRPC_STATUS[statusCode] ?? 7, message: error, metadata });
    }
    return new RpcException({
      status: 'error',
      statusCode,
      error,
      ...(code === undefined ? {} : { code }),
      ...(scope === undefined ? {} : { scope }),
      message,
    });
  },
};
