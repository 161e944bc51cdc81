import { Injectable } from '@nestjs/common';
import { InjectVoxKeyOptions } from '../decorators/inject-voxkey-options.decorator.js';
import { VoxKeyAuthGuard } from '../guards/voxkey-auth.guard.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import {
  closeSubscriptionAtExpiry,
  connectionInitCredentials,
  type GraphQLWsContext,
  graphqlWsCredentials,
  MERCURIUS_SOCKET,
} from './graphql.transport.js';
import { isRefusal, refusalFields } from './transport.js';

/** graphql-ws close codes for a refused `connection_init`. */
const CLOSE_CODES: Readonly<Record<number, number>> = {
  400: 4400,
  401: 4403,
  403: 4403,
  // "Try Again Later" (RFC 6455 §7.4.1 registry): the token may be fine, the key set is not.
  503: 1013,
};

/**
 * Connection-time authentication of GraphQL subscriptions: checks a graphql-ws connection's
 * token when its `connection_init` arrives, before any subscription. The guards still check
 * each `subscribe` (and its scopes); this refuses a bad connection early and with a close code
 * the client understands: 4403 for a missing or invalid token (the graphql-ws client then
 * retries, re-running `connectionParams`), 4400 for malformed credentials, 1013 while the key
 * set cannot be fetched. The claims are never sent back to the client.
 *
 * @example
 * GraphQLModule.forRootAsync<ApolloDriverConfig>({
 *   driver: ApolloDriver,
 *   inject: [VoxKeyGraphQL],
 *   useFactory: (voxkey: VoxKeyGraphQL) => ({
 *     autoSchemaFile: true,
 *     subscriptions: { 'graphql-ws': { onConnect: voxkey.graphqlWsOnConnect } },
 *   }),
 * });
 * // Mercurius:
 * //   subscription: { onConnect: voxkey.mercuriusOnConnect, context: voxkey.mercuriusContext }
 * @publicApi
 */
@Injectable()
export class VoxKeyGraphQL {
  constructor(
    private readonly guard: VoxKeyAuthGuard,
    @InjectVoxKeyOptions() private readonly options: ResolvedVoxKeyOptions,
  ) {}

  /**
   * graphql-ws's `onConnect`: resolves `true` for a connection whose token is valid (and closes
   * it when the token expires, with `closeOnExpiry`), and otherwise closes the socket and
   * resolves `false`. Never resolves with an object: graphql-ws would send it to the client in
   * `connection_ack`.
   */
  readonly graphqlWsOnConnect = async (connection: {
    readonly connectionParams?: Readonly<Record<string, unknown>>;
    /** The driver's `{ socket, request }` (typed `unknown` by @nestjs/graphql). */
    readonly extra?: unknown;
  }): Promise<boolean> => {
    const ctx = connection as GraphQLWsContext;
    const credentials = graphqlWsCredentials(ctx, this.options);
    if (credentials.kind === 'missing' && this.anonymousAllowed()) return true;
    try {
      const { until } = await this.guard.authenticateConnection(
        ctx.extra?.request ?? {},
        credentials,
        'graphql',
      );
      if (until !== undefined) closeSubscriptionAtExpiry(ctx.extra?.socket, until, this.options);
      return true;
    } catch (error) {
      if (!isRefusal(error)) throw error;
      const { statusCode, error: reason } = refusalFields(error);
      ctx.extra?.socket?.close(CLOSE_CODES[statusCode] ?? 4403, reason);
      return false;
    }
  };

  /**
   * Mercurius's `subscription.onConnect`: resolves `true` when the `connection_init` payload
   * holds a valid token, `false` otherwise (Mercurius then answers `connection_error` and closes
   * the socket). Mercurius shows it neither the socket nor the upgrade request, so an
   * `Authorization` header on the upgrade is checked at each subscribe only.
   */
  readonly mercuriusOnConnect = async (data: { readonly payload?: unknown }): Promise<boolean> => {
    const credentials = connectionInitCredentials(data.payload, this.options);
    if (credentials.kind === 'missing' && this.anonymousAllowed()) return true;
    try {
      await this.guard.authenticateConnection({}, credentials, 'graphql');
      return true;
    } catch (error) {
      if (!isRefusal(error)) throw error;
      return false;
    }
  };

  /** `contexts.graphql.allowAnonymousConnections`: a connection without any token is let in. */
  private anonymousAllowed(): boolean {
    return (
      this.options.contexts.graphql !== false &&
      this.options.contexts.graphql.allowAnonymousConnections
    );
  }

  /**
   * Mercurius's `subscription.context`: hands the subscription's socket to the guards, so that
   * `closeOnExpiry` can close it (4403) when the token expires.
   */
  readonly mercuriusContext = (socket: unknown): Record<symbol, unknown> => ({
    [MERCURIUS_SOCKET]: socket,
  });
}
