// One instance of an API in a fleet: a Nest app with VoxKeyModule on a shared Redis, started by
// the fleet test with `node -r ./test/support/ts-register.cjs`. It answers the parent's messages;
// everything it logs is kept for the `logs` message (errors are printed too).
import 'reflect-metadata';
import { Controller, Get } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import {
  M2MTokenService,
  RedisStore,
  RevocationService,
  Scopes,
  VoxKeyModule,
  type VoxKeyModuleOptions,
} from '../../lib/index';
import { CaptureLogger } from './capture-logger';

/** Keeps every line for the parent, and prints errors as the worker always did. */
class WorkerLogger extends CaptureLogger {
  override error(message: unknown, ...rest: unknown[]): void {
    super.error(message, ...rest);
    console.error(message, ...rest);
  }
}

@Controller()
class PostsController {
  @Scopes('read:posts') @Get('posts') posts() {
    return ['post'];
  }
}

type Message =
  | { id: number; cmd: 'tokens'; n: number; scope?: string }
  | { id: number; cmd: 'revoke'; token: string }
  | { id: number; cmd: 'logs' }
  | { id: number; cmd: 'exit' };

async function main(): Promise<void> {
  const options = JSON.parse(process.env.VOXKEY_OPTIONS!) as VoxKeyModuleOptions;
  const store = new RedisStore({ url: process.env.REDIS_URL! });
  const module = VoxKeyModule.forRoot({ ...options, store, encryptionKey: Buffer.alloc(32, 7) });
  const logger = new WorkerLogger();
  const app = await NestFactory.create(
    { module: class FleetApp {}, imports: [module], controllers: [PostsController] } as never,
    { logger },
  );
  await app.listen(0, '127.0.0.1');
  const m2m = app.get(M2MTokenService);
  const revocation = app.get(RevocationService);

  process.on('message', async (message: Message) => {
    try {
      if (message.cmd === 'tokens') {
        const request = message.scope === undefined ? {} : { scope: message.scope };
        const tokens = await Promise.all(
          Array.from({ length: message.n }, () => m2m.getToken(request)),
        );
        process.send!({ id: message.id, tokens });
      } else if (message.cmd === 'revoke') {
        await revocation.revoke(message.token);
        process.send!({ id: message.id, ok: true });
      } else if (message.cmd === 'logs') {
        process.send!({ id: message.id, lines: logger.lines });
      } else {
        await app.close();
        process.send!({ id: message.id, ok: true }, () => process.exit(0));
      }
    } catch (error) {
      process.send!({
        id: message.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  });
  process.send!({ ready: true, port: (app.getHttpServer().address() as AddressInfo).port });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
