import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';

/** A `ws` client and every frame it received, parsed. */
export interface RawClient {
  socket: WebSocket;
  frames: { event: string; data: unknown }[];
  /** Sends `{ event, data }` and resolves with the next frame, within 3 s. */
  call(event: string, data?: unknown): Promise<{ event: string; data: unknown }>;
  /** Resolves with the close code, within `ms`. */
  closed(ms?: number): Promise<number>;
}

/** What an upgrade got: a socket, or the HTTP answer that refused it. */
export type Upgrade =
  | { kind: 'open'; client: RawClient }
  | { kind: 'refused'; status: number; headers: IncomingMessage['headers']; body: string };

/** Opens a `ws` connection to `url`; `track` collects it to close in afterAll. */
export function openRaw(
  url: string,
  headers: Record<string, string>,
  track: WebSocket[],
): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    track.push(socket);
    const timer = setTimeout(() => reject(new Error('no upgrade answer within 3 s')), 3000);
    socket.once('unexpected-response', (request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        clearTimeout(timer);
        request.destroy();
        resolve({
          kind: 'refused',
          status: response.statusCode ?? 0,
          headers: response.headers,
          body,
        });
      });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('open', () => {
      clearTimeout(timer);
      resolve({ kind: 'open', client: rawClient(socket) });
    });
  });
}

function rawClient(socket: WebSocket): RawClient {
  const frames: RawClient['frames'] = [];
  const waiting: ((frame: RawClient['frames'][number]) => void)[] = [];
  socket.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as RawClient['frames'][number];
    frames.push(frame);
    waiting.shift()?.(frame);
  });
  const closedCode = new Promise<number>((resolve) =>
    socket.once('close', (code) => resolve(code)),
  );
  return {
    socket,
    frames,
    call: (event, data) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to '${event}'`)), 3000);
        waiting.push((frame) => {
          clearTimeout(timer);
          resolve(frame);
        });
        socket.send(JSON.stringify({ event, data }));
      }),
    closed: (ms = 3000) =>
      Promise.race([
        closedCode,
        new Promise<number>((_, reject) =>
          setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms).unref(),
        ),
      ]),
  };
}
