import type {
  DynamicModule,
  INestApplication,
  LoggerService,
  Provider,
  Type,
  WebSocketAdapter,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';

/** Boots a real Nest application whose gateways are `providers`, listening on 127.0.0.1. */
export async function createGatewayApp(
  imports: (DynamicModule | Type)[],
  providers: Provider[],
  {
    adapter,
    logger,
  }: {
    adapter?: (app: INestApplication) => WebSocketAdapter;
    logger?: LoggerService;
  } = {},
): Promise<{ app: INestApplication; port: number }> {
  const moduleRef = await Test.createTestingModule({ imports, providers }).compile();
  const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: logger ?? false });
  if (adapter) app.useWebSocketAdapter(adapter(app));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, port };
}

/**
 * Resolves with the first `event` of `emitter` (its arguments), or rejects after `ms`: every
 * wait in these tests is bounded.
 */
export function nextEvent<T = unknown>(
  emitter: { once(event: string, fn: (...args: never[]) => void): unknown },
  event: string,
  ms = 3000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    emitter.once(event, ((value: T) => {
      clearTimeout(timer);
      resolve(value);
    }) as (...args: never[]) => void);
  });
}

/** Waits until `seconds` (epoch seconds) have passed, for tokens that must have expired. */
export async function waitUntil(seconds: number): Promise<void> {
  const delay = seconds * 1000 - Date.now();
  if (delay > 5000) throw new Error('refusing to wait longer than 5 s');
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
}
