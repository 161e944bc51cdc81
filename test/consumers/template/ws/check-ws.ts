// Run with node after `tsc` (after check.js): boots a `ws` gateway (@nestjs/platform-ws through
// VoxKeyWsAdapter) against a local test realm on 127.0.0.1 and checks what its clients hear on
// NestJS 11, whose exception filter sends nothing on a `ws` socket (the library sends the
// refusal frame itself there). Every answer must arrive exactly once.
// With the upgrade authenticated (the adapter's default): (1) an upgrade without a token is
// answered with HTTP 401 and `WWW-Authenticate: Bearer ...`; (2) the guarded `posts` message
// with a token lacking `read:posts` gets one `exception` frame (403 insufficient_scope);
// (3) with a `read:posts` token, one `posts` frame naming the token's `sub` (@VoxKeyUser).
// With `authenticateUpgrade: false`: (4) `posts` without a token gets one `exception` frame
// (401 'No token'); (5) with an expired token, one (401 'Invalid token').
// Exits 0 or 1.
import type { IncomingHttpHeaders } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { VoxKeyModuleOptions } from '@voxkey/nestjs';
import { VoxKeyTestRealm } from '@voxkey/nestjs/testing';
import { VoxKeyWsAdapter, type VoxKeyWsAdapterOptions } from '@voxkey/nestjs/ws';
import WebSocket from 'ws';
import { WsAppModule } from './ws-app.module';
import { runCheck } from './run-check';

const WAIT = 3000;
// After the first frame, how long a second one (a duplicate) would still have to arrive.
const AFTER_FRAME = 300;

type Upgrade =
  | { kind: 'open'; socket: WebSocket }
  | { kind: 'refused'; status: number; headers: IncomingHttpHeaders };

function open(url: string, token: string | undefined): Promise<Upgrade> {
  const socket = new WebSocket(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return new Promise((resolve, reject) => {
    socket.once('unexpected-response', (request, response) => {
      request.destroy();
      resolve({ kind: 'refused', status: response.statusCode ?? 0, headers: response.headers });
    });
    socket.once('open', () => resolve({ kind: 'open', socket }));
    socket.once('error', reject);
  });
}

/** Sends `posts` on a new socket; resolves with every frame received until things go quiet. */
async function send(url: string, token: string | undefined): Promise<unknown[]> {
  const upgrade = await open(url, token);
  if (upgrade.kind !== 'open') throw new Error(`upgrade refused with ${upgrade.status}`);
  const { socket } = upgrade;
  try {
    return await new Promise<unknown[]>((resolve) => {
      const frames: unknown[] = [];
      let timer = setTimeout(() => resolve(frames), WAIT);
      socket.on('message', (data: Buffer) => {
        frames.push(JSON.parse(data.toString()));
        clearTimeout(timer);
        timer = setTimeout(() => resolve(frames), AFTER_FRAME);
      });
      socket.send(JSON.stringify({ event: 'posts', data: {} }));
    });
  } finally {
    socket.terminate();
  }
}

/**
 * The frames' one `exception` frame's data, if they are exactly that and it has the shape of
 * the library's refusals (`status: 'error'`, a numeric `statusCode`, a `message` string).
 */
function onlyException(frames: unknown[]): { frames: unknown[]; data?: Record<string, unknown> } {
  const [frame] = frames as { event?: unknown; data?: Record<string, unknown> }[];
  const data = frame?.data;
  const shaped =
    frames.length === 1 &&
    frame.event === 'exception' &&
    data?.status === 'error' &&
    typeof data.statusCode === 'number' &&
    typeof data.message === 'string';
  return shaped ? { frames, data } : { frames };
}

/** Boots the gateway app with VoxKeyWsAdapter; returns it and its `ws://` URL. */
async function boot(
  options: VoxKeyModuleOptions,
  adapter: VoxKeyWsAdapterOptions,
): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(WsAppModule.withVoxKey(options), {
    logger: ['error', 'warn'],
  });
  app.useWebSocketAdapter(new VoxKeyWsAdapter(app, adapter));
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app.close();
    throw error;
  }
  return { app, url: `${(await app.getUrl()).replace(/^http/, 'ws')}/ws` };
}

async function main(): Promise<boolean> {
  const realm = await VoxKeyTestRealm.start();
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
    // One app at a time: VoxKeyModule registers its Passport strategy once per process.
    const checked = await boot(realm.moduleOptions(), {});
    app = checked.app;

    const none = await open(checked.url, undefined);
    if (none.kind === 'open') none.socket.terminate();
    expect(
      'upgrade without a token',
      none.kind === 'refused' &&
        none.status === 401 &&
        /^Bearer realm="[^"]+"$/.test(String(none.headers['www-authenticate'])),
      `expected HTTP 401 with a Bearer challenge, got ${none.kind === 'open' ? 'an open socket' : JSON.stringify(none)}`,
    );

    const other = onlyException(await send(checked.url, realm.mint({ scope: 'other' })));
    expect(
      'posts with another scope',
      other.data?.statusCode === 403 &&
        other.data.error === 'Insufficient scope' &&
        other.data.code === 'insufficient_scope' &&
        other.data.scope === 'read:posts',
      `expected exactly one exception frame, 403 insufficient_scope, got ${JSON.stringify(other.frames)}`,
    );

    const valid = await send(checked.url, realm.mint({ scope: 'read:posts' }));
    expect(
      'posts with read:posts',
      JSON.stringify(valid) ===
        JSON.stringify([{ event: 'posts', data: { for: 'test-user', posts: [] } }]),
      `expected exactly one frame { event: 'posts', data: { for: 'test-user', posts: [] } }, got ${JSON.stringify(valid)}`,
    );

    await app.close();
    app = undefined;
    const unchecked = await boot(realm.moduleOptions(), { authenticateUpgrade: false });
    app = unchecked.app;

    const tokenless = onlyException(await send(unchecked.url, undefined));
    expect(
      'posts without a token (upgrade not authenticated)',
      tokenless.data?.statusCode === 401 && tokenless.data.error === 'No token',
      `expected exactly one exception frame, 401 'No token', got ${JSON.stringify(tokenless.frames)}`,
    );

    const expired = onlyException(
      await send(unchecked.url, realm.mint({ scope: 'read:posts', expiresIn: -600 })),
    );
    expect(
      'posts with an expired token (upgrade not authenticated)',
      expired.data?.statusCode === 401 &&
        expired.data.error === 'Invalid token' &&
        expired.data.code === 'invalid_token',
      `expected exactly one exception frame, 401 'Invalid token', got ${JSON.stringify(expired.frames)}`,
    );
    return ok;
  } finally {
    await app?.close();
    await realm.close();
  }
}

runCheck(main, 'the apps, the sockets and the realm');
