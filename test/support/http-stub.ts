import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Answers with a JSON body. */
export function json(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res
    .writeHead(status, { 'content-type': 'application/json', ...headers })
    .end(JSON.stringify(body));
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A programmable HTTP server on 127.0.0.1 that records every request: for fault injection. */
export class HttpStub {
  readonly requests: string[] = [];
  handler: Handler = (_req, res) => res.writeHead(404).end();

  private constructor(private readonly server: Server) {}

  static async start(handler?: Handler): Promise<HttpStub> {
    const server = createServer();
    const stub = new HttpStub(server);
    server.on('request', (req, res) => {
      stub.requests.push(`${req.method} ${req.url}`);
      stub.handler(req, res);
    });
    if (handler) stub.handler = handler;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return stub;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Answers every request with this JSON body. */
  serveJson(body: unknown, status = 200): void {
    this.handler = (_req, res) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
