// Run with node after `tsc` (after check.js): boots the gateway app (socket.io on the app's HTTP
// server) against a local test realm on 127.0.0.1 and checks NestJS 11's gateway behaviour:
// (1) the start-up audit warns about OpenGateway.ping, the handler without @UseGuards;
// (2) the guarded `posts` message without a token gets the `exception` event (401 'No token')
//     and no acknowledgement; (3) with a `read:posts` token its acknowledgement carries the
//     handler's answer; (4) with a token lacking the scope, the exception event with 403.
// Also: (5) the unguarded `ping` is answered without a token (why the audit warns).
// Exits 0 or 1.
import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { VoxKeyTestRealm } from '@voxkey/nestjs/testing';
import { io, type Socket } from 'socket.io-client';
import { GatewayAppModule } from './gateway.module';
import { runCheck } from './run-check';

/** Keeps the warnings for the checks; prints errors and warnings as Nest would. */
class CapturingLogger implements LoggerService {
  readonly warnings: string[] = [];
  log() {}
  debug() {}
  verbose() {}
  warn(message: unknown, ...rest: unknown[]) {
    this.warnings.push(String(message));
    console.error('WARN', message, ...rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    console.error('ERROR', message, ...rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    console.error('FATAL', message, ...rest);
  }
}

interface Outcome {
  ack?: unknown;
  acked: boolean;
  exception?: { status?: string; statusCode?: number; error?: string; message?: string };
}

const ACK_WAIT = 3000;
// After an exception event, how long an acknowledgement would still have to arrive.
const AFTER_EXCEPTION = 300;

function connect(url: string, token: string | undefined): Promise<Socket> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(token ? { auth: { token } } : {}),
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** Sends `event` on a new socket; collects the acknowledgement and any exception event. */
async function send(url: string, token: string | undefined, event: string): Promise<Outcome> {
  const socket = await connect(url, token);
  try {
    return await new Promise<Outcome>((resolve) => {
      const outcome: Outcome = { acked: false };
      const done = () => {
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(done, ACK_WAIT);
      socket.on('exception', (payload: Outcome['exception']) => {
        outcome.exception = payload;
        clearTimeout(timer);
        setTimeout(done, AFTER_EXCEPTION);
      });
      socket.emit(event, {}, (answer: unknown) => {
        outcome.acked = true;
        outcome.ack = answer;
        if (!outcome.exception) done();
      });
    });
  } finally {
    socket.close();
  }
}

async function main(): Promise<boolean> {
  const realm = await VoxKeyTestRealm.start();
  const logger = new CapturingLogger();
  let app: INestApplication | undefined;
  let ok = true;
  const expect = (name: string, passed: boolean, detail: string) => {
    if (passed) console.log(`${name}: ok`);
    else {
      ok = false;
      console.error(`${name}: ${detail}`);
    }
  };
  try {
    app = await NestFactory.create(GatewayAppModule.withVoxKey(realm.moduleOptions()), { logger });
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();

    const audit = logger.warnings.filter((line) => line.includes('OpenGateway.ping'));
    expect(
      'audit warns about OpenGateway.ping',
      audit.length === 1 && logger.warnings.every((line) => !line.includes('PostsGateway')),
      `expected one warning naming OpenGateway.ping and none naming PostsGateway, got ${JSON.stringify(logger.warnings)}`,
    );

    const none = await send(url, undefined, 'posts');
    expect(
      'posts without a token',
      !none.acked &&
        none.exception?.status === 'error' &&
        none.exception.statusCode === 401 &&
        none.exception.error === 'No token' &&
        typeof none.exception.message === 'string',
      `expected exception 401 'No token' and no ack, got ${JSON.stringify(none)}`,
    );

    const valid = await send(url, realm.mint({ scope: 'read:posts' }), 'posts');
    expect(
      'posts with read:posts',
      valid.acked &&
        !valid.exception &&
        JSON.stringify(valid.ack) === JSON.stringify({ for: 'test-user', posts: [] }),
      `expected ack { for: 'test-user', posts: [] }, got ${JSON.stringify(valid)}`,
    );

    const other = await send(url, realm.mint({ scope: 'other' }), 'posts');
    expect(
      'posts with another scope',
      !other.acked && other.exception?.statusCode === 403,
      `expected exception 403 and no ack, got ${JSON.stringify(other)}`,
    );

    const open = await send(url, undefined, 'ping');
    expect(
      'unguarded ping without a token',
      open.acked && open.ack === 'pong' && !open.exception,
      `expected ack 'pong', got ${JSON.stringify(open)}`,
    );
    return ok;
  } finally {
    await app?.close();
    await realm.close();
  }
}

runCheck(main, 'the app, the sockets and the realm');
