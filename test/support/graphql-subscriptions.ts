import { Injectable } from '@nestjs/common';
import { Query, Resolver, Subscription } from '@nestjs/graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Public, Scopes } from '../../lib/index';

/** A minimal in-memory pub/sub: each subscriber gets an async iterator of what is published. */
@Injectable()
export class FeedPubSub {
  private readonly subscribers = new Set<(value: string) => void>();

  /** Subscribers currently listening. */
  get listeners(): number {
    return this.subscribers.size;
  }

  publish(value: string): void {
    for (const push of this.subscribers) push(value);
  }

  iterator(): AsyncIterableIterator<string> {
    const queue: string[] = [];
    let wake: ((result: IteratorResult<string>) => void) | undefined;
    const push = (value: string) => {
      if (wake) {
        wake({ value, done: false });
        wake = undefined;
      } else queue.push(value);
    };
    this.subscribers.add(push);
    const end = (): Promise<IteratorResult<string>> => {
      this.subscribers.delete(push);
      wake?.({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    };
    return {
      next: () =>
        queue.length > 0
          ? Promise.resolve({ value: queue.shift() as string, done: false })
          : new Promise((resolve) => (wake = resolve)),
      return: end,
      throw: end,
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}

const asIs = (value: string) => value;

/** Subscriptions: one needing a token, one needing `read:posts`. */
@Resolver()
export class FeedResolver {
  constructor(private readonly pubsub: FeedPubSub) {}

  @Public()
  @Query(() => String)
  ping(): string {
    return 'pong';
  }

  @Subscription(() => String, { resolve: asIs })
  feed(): AsyncIterableIterator<string> {
    return this.pubsub.iterator();
  }

  @Scopes('read:posts')
  @Subscription(() => String, { resolve: asIs })
  postsFeed(): AsyncIterableIterator<string> {
    return this.pubsub.iterator();
  }
}

/** What a graphql-ws client saw: its `connection_ack` payloads and the close events. */
export interface WsClientLog {
  acks: unknown[];
  closes: { code: number; reason: string }[];
}

/**
 * A graphql-ws client over `ws`, connecting at once, never retrying, with the given
 * `connectionParams` and upgrade request headers.
 */
export function graphqlWsClient(
  url: string,
  {
    connectionParams,
    headers,
  }: { connectionParams?: Record<string, unknown>; headers?: Record<string, string> } = {},
): { client: Client; log: WsClientLog } {
  const log: WsClientLog = { acks: [], closes: [] };
  class WithHeaders extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, headers ? { headers } : undefined);
    }
  }
  const client = createClient({
    url,
    webSocketImpl: WithHeaders,
    connectionParams,
    // Connected until disposed (not closed by the client after a refused subscription), so a
    // test can tell whether the server closed it.
    lazy: false,
    onNonLazyError: () => undefined,
    retryAttempts: 0,
    on: {
      connected: (_socket, payload) => log.acks.push(payload),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        log.closes.push({ code, reason: String(reason) });
      },
    },
  });
  return { client, log };
}

/** One subscription's results, as they arrive. */
export interface SubscriptionLog {
  values: unknown[];
  /** GraphQL errors: in a `next` result (Apollo), or the `error` message's list (Mercurius). */
  errors: { message: string; extensions?: Record<string, unknown> }[];
  /** Any other error the sink got (the socket closing). */
  failure?: unknown;
  /** The server ended the subscription: `complete`, or an `error` message. */
  ended: boolean;
  stop: () => void;
}

/** Subscribes and records every result. */
export function record(client: Client, query: string): SubscriptionLog {
  const log: SubscriptionLog = { values: [], errors: [], ended: false, stop: () => undefined };
  log.stop = client.subscribe<Record<string, unknown>>(
    { query },
    {
      next: (result) => {
        if (result.data) log.values.push(...Object.values(result.data));
        if (result.errors) log.errors.push(...(result.errors as SubscriptionLog['errors']));
      },
      error: (error) => {
        if (Array.isArray(error)) {
          log.errors.push(...(error as SubscriptionLog['errors']));
          log.ended = true;
        } else log.failure = error;
      },
      complete: () => {
        log.ended = true;
      },
    },
  );
  return log;
}

/** Waits until `condition` holds, polling, for at most `ms` milliseconds. */
export async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
