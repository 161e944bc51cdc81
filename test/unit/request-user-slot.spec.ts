import type { HttpAdapterHost } from '@nestjs/core';
import { EventEmitter } from 'node:events';
import { RequestUserSlot } from '../../lib/http/request-user-slot';

/** An adapter host whose HTTP server is a plain EventEmitter, as Node's servers are. */
function hostOf(type: string, server: unknown = new EventEmitter()): HttpAdapterHost {
  return {
    httpAdapter: { getType: () => type, getHttpServer: () => server },
  } as unknown as HttpAdapterHost;
}

const serverOf = (host: HttpAdapterHost) => host.httpAdapter.getHttpServer() as EventEmitter;

describe('RequestUserSlot', () => {
  it('on Express, declares `user` on each request as the server receives it, keeping a value already there', () => {
    const host = hostOf('express');
    const server = serverOf(host);
    const seen: object[] = [];
    server.on('request', (req: object) => seen.push({ ...req }));
    new RequestUserSlot(host).onApplicationBootstrap();

    const fresh = {};
    server.emit('request', fresh);
    expect(Object.keys(fresh)).toEqual(['user']);
    expect(seen[0]).toHaveProperty('user', undefined); // before the application's own listener

    const earlier = { user: { sub: 'set-before' } };
    server.emit('request', earlier);
    expect(earlier.user).toEqual({ sub: 'set-before' });

    // A request class with a getter-only `user` (assigning would throw in strict mode).
    class CustomRequest {
      reads = 0;
      get user(): undefined {
        this.reads++;
        return undefined;
      }
    }
    const custom = new CustomRequest();
    expect(() => server.emit('request', custom)).not.toThrow();
    expect(Object.keys(custom)).toEqual(['reads']);
    expect(custom.reads).toBe(0); // not even read
  });

  it('adds one listener per server however many modules start, and removes it on shutdown', () => {
    const host = hostOf('express');
    const server = serverOf(host);
    const first = new RequestUserSlot(host);
    const second = new RequestUserSlot(host);
    first.onApplicationBootstrap();
    second.onApplicationBootstrap();
    expect(server.listenerCount('request')).toBe(1);

    second.onApplicationShutdown();
    expect(server.listenerCount('request')).toBe(1);
    first.onApplicationShutdown();
    expect(server.listenerCount('request')).toBe(0);
  });

  it('does nothing on Fastify, without an HTTP adapter, or with a server that is not an emitter', () => {
    const fastify = hostOf('fastify');
    new RequestUserSlot(fastify).onApplicationBootstrap();
    expect(serverOf(fastify).listenerCount('request')).toBe(0);

    expect(() => new RequestUserSlot(undefined).onApplicationBootstrap()).not.toThrow();
    expect(() =>
      new RequestUserSlot({
        httpAdapter: undefined,
      } as unknown as HttpAdapterHost).onApplicationBootstrap(),
    ).not.toThrow();
    expect(() => new RequestUserSlot(hostOf('express', {})).onApplicationBootstrap()).not.toThrow();
    expect(() =>
      new RequestUserSlot(hostOf('express', undefined)).onApplicationBootstrap(),
    ).not.toThrow();
    expect(() =>
      new RequestUserSlot({
        httpAdapter: {},
      } as unknown as HttpAdapterHost).onApplicationBootstrap(),
    ).not.toThrow();
    expect(() => new RequestUserSlot(undefined).onApplicationShutdown()).not.toThrow();
  });
});
