import type { ExecutionContext } from '@nestjs/common';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { graphqlTransport } from './graphql.transport.js';
import { httpTransport } from './http.transport.js';
import { rpcTransport } from './rpc.transport.js';
import type { Transport, VoxKeyContextType } from './transport.js';
import { wsTransport } from './ws.transport.js';

const TRANSPORTS: Readonly<Record<VoxKeyContextType, Transport>> = {
  http: httpTransport,
  graphql: graphqlTransport,
  ws: wsTransport,
  rpc: rpcTransport,
};

/** The transport of a context type NestJS has; undefined for any other (never allowed). */
export function transportOf(context: ExecutionContext): Transport | undefined {
  const type = context.getType<string>();
  return Object.hasOwn(TRANSPORTS, type) ? TRANSPORTS[type as VoxKeyContextType] : undefined;
}

/** Whether the options let the guards authenticate this context type (HTTP always). */
export function isEnabled(context: ExecutionContext, options: ResolvedVoxKeyOptions): boolean {
  const type = context.getType<string>();
  return (
    type === 'http' ||
    (Object.hasOwn(options.contexts, type) && options.contexts[type as 'graphql'] !== false)
  );
}
