import { Controller } from '@nestjs/common';
import {
  type ClientProxy,
  Ctx,
  EventPattern,
  MessagePattern,
  Payload,
} from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { Public, Scopes, VoxKeyUser, type VoxKeyClaims } from '../../lib/index';

/** Message handlers of the TCP, Redis and NATS suites: public, protected, scoped, an event. */
@Controller()
export class RpcPostsController {
  /** Payloads of the `post.created` events the handler ran for. */
  readonly events: unknown[] = [];

  @Public()
  @MessagePattern('open')
  open() {
    return 'open';
  }

  @MessagePattern('guarded')
  guarded() {
    return 'guarded';
  }

  @Scopes('read:posts')
  @MessagePattern('posts')
  posts() {
    return ['a post'];
  }

  @MessagePattern('me')
  me(@Payload() _data: unknown, @Ctx() _ctx: unknown, @VoxKeyUser() user?: VoxKeyClaims) {
    return { sub: user?.sub, scope: user?.scope };
  }

  @EventPattern('post.created')
  created(@Payload() data: unknown) {
    this.events.push(data);
  }
}

/**
 * Makes `client`'s packets carry the `authorization` metadata (NestJS 12's `setOnDispatchHook`)
 * that `authorization()` gives at the time of sending, or none.
 */
export function sendAuthorization(
  client: ClientProxy,
  authorization: () => string | undefined,
): void {
  client.setOnDispatchHook((packet) => {
    const value = authorization();
    if (value !== undefined) packet.metadata = { authorization: value };
  });
}

/** A request's reply, or the error the client observable failed with (bounded: 5 s). */
export function reply(client: ClientProxy, pattern: string, data: unknown = {}): Promise<unknown> {
  return firstValueFrom(client.send(pattern, data).pipe(timeout(5000))).then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/** Resolves once `check` holds, polling every 10 ms; rejects after 5 s. */
export async function until(check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited >= 5000) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The refusals every non-gRPC transport answers with, exactly. */
export const REFUSALS = {
  missing: {
    status: 'error',
    statusCode: 401,
    error: 'No token',
    message: 'A Bearer access token is required in the Authorization header',
  },
  expired: {
    status: 'error',
    statusCode: 401,
    error: 'Invalid token',
    code: 'invalid_token',
    message: 'The access token expired',
  },
  scope: {
    status: 'error',
    statusCode: 403,
    error: 'Insufficient scope',
    code: 'insufficient_scope',
    scope: 'read:posts',
    message: 'The access token lacks a required scope',
  },
  malformed: {
    status: 'error',
    statusCode: 400,
    error: 'Invalid request',
    code: 'invalid_request',
    message: 'The Authorization header is malformed',
  },
  unavailable: {
    status: 'error',
    statusCode: 503,
    error: 'Service Unavailable',
    message: 'The access token cannot be validated right now; try again later',
  },
} as const;
