import { Controller, type INestApplication, type INestMicroservice } from '@nestjs/common';
import { Mutation, Query, Resolver } from '@nestjs/graphql';
import {
  type ClientProxy,
  ClientProxyFactory,
  MessagePattern,
  type MicroserviceOptions,
  type TcpClientOptions,
  Transport,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { SubscribeMessage, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import {
  RequireActiveToken,
  RevocationService,
  Scopes,
  VoxKeyModule,
  type VoxKeyModuleOptions,
} from '../../lib/index';
import { CaptureLogger } from '../support/capture-logger';
import { freePort } from '../support/free-port';
import {
  createGraphQLApp,
  type GraphQLApp,
  type GraphQLResponse,
  graphqlModule,
  postGraphQL,
} from '../support/graphql-app';
import { OidcRealm, OPAQUE_RESOURCE } from '../support/oidc-realm';
import { reply, sendAuthorization } from '../support/rpc-handlers';
import { createGatewayApp, nextEvent } from '../support/ws-app';

/**
 * `@RequireActiveToken()` beyond HTTP routes and socket.io gateways (active-token.e2e-spec.ts),
 * against the real realm: GraphQL resolvers and microservice handlers ask the realm on each call,
 * so a token revoked there is refused by those handlers only. And in introspection mode a socket
 * is closed at the `exp` of the realm's answer.
 */

/** The refusal of a token the realm no longer considers active, in the RPC and socket form. */
const INACTIVE = {
  status: 'error',
  statusCode: 401,
  error: 'Invalid token',
  code: 'invalid_token',
  message: 'The access token is not active',
} as const;

@Resolver()
class LiveResolver {
  @Scopes('read:posts')
  @Query(() => [String], { nullable: true })
  posts(): string[] {
    return ['post'];
  }

  @RequireActiveToken()
  @Scopes('read:posts')
  @Query(() => Boolean, { nullable: true })
  live(): boolean {
    return true;
  }

  @RequireActiveToken()
  @Scopes('read:posts')
  @Query(() => Boolean, { nullable: true })
  liveToo(): boolean {
    return true;
  }

  @RequireActiveToken()
  @Scopes('read:posts')
  @Mutation(() => Boolean, { nullable: true })
  touch(): boolean {
    return true;
  }
}

@Controller()
class LiveRpcController {
  @Scopes('read:posts')
  @MessagePattern('posts')
  posts() {
    return ['post'];
  }

  @RequireActiveToken()
  @Scopes('read:posts')
  @MessagePattern('live')
  live() {
    return { live: true };
  }
}

/** A gateway that counts its runs, to show no message is answered after the close. */
@WebSocketGateway()
class PostsGateway {
  @WebSocketServer() server!: Server;
  runs = 0;

  @Scopes('read:posts')
  @SubscribeMessage('posts')
  posts(): string[] {
    this.runs++;
    return ['post'];
  }
}

/** Emits `event`; resolves with the ack or the `exception` event's payload (bounded: 5 s). */
function emit(
  socket: Socket,
  event: string,
): Promise<{ ack?: unknown; exception?: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${event}`)), 5_000);
    const onException = (exception: Record<string, unknown>) => {
      clearTimeout(timer);
      resolve({ exception });
    };
    socket.once('exception', onException);
    socket.emit(event, {}, (ack: unknown) => {
      clearTimeout(timer);
      socket.off('exception', onException);
      resolve({ ack });
    });
  });
}

/** Every error's extensions, in order. */
const extensionsOf = (res: GraphQLResponse) =>
  (res.body.errors ?? []).map(({ extensions = {} }) => extensions);

describe('@RequireActiveToken() against the real realm, beyond routes', () => {
  let realm: OidcRealm;
  const logger = new CaptureLogger();
  beforeAll(async () => {
    realm = await OidcRealm.start();
  });
  afterEach(() => realm.reset());
  afterAll(async () => realm?.close());

  const issued: string[] = [];
  const issue = async (...args: Parameters<OidcRealm['issueToken']>) => {
    const token = await realm.issueToken(...args);
    issued.push(token);
    return token;
  };

  const options = (extra: Record<string, unknown> = {}) =>
    realm.moduleOptions({
      requestTimeoutMs: 500,
      introspection: { cacheTtlMs: 0 },
      ...extra,
    }) as VoxKeyModuleOptions;

  describe('GraphQL resolvers (Apollo on Express)', () => {
    let gql: GraphQLApp;
    const post = (query: string, token: string) => postGraphQL(gql.url, query, `Bearer ${token}`);

    beforeAll(async () => {
      gql = await createGraphQLApp(
        'apollo-express',
        [VoxKeyModule.forRoot(options()), graphqlModule('apollo-express')],
        [LiveResolver],
        logger,
      );
    });
    afterAll(async () => gql?.app.close());

    it('before revocation both fields answer; only the @RequireActiveToken one asks the realm', async () => {
      const token = await issue();
      const before = realm.counts.introspect;
      expect((await post('{ posts }', token)).body).toEqual({ data: { posts: ['post'] } });
      expect(realm.counts.introspect - before).toBe(0);
      expect((await post('{ posts live }', token)).body).toEqual({
        data: { posts: ['post'], live: true },
      });
      expect(realm.counts.introspect - before).toBe(1);
    });

    it('a token revoked at the realm: the @RequireActiveToken field is UNAUTHENTICATED, the other still answers', async () => {
      const token = await issue();
      expect((await post('{ live }', token)).body).toEqual({ data: { live: true } });
      await realm.revoke(token);
      const res = await post('{ posts live }', token);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ posts: ['post'], live: null });
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors?.[0]).toMatchObject({
        message: 'The access token is not active',
        path: ['live'],
      });
      expect(extensionsOf(res)).toEqual([
        {
          code: 'UNAUTHENTICATED',
          statusCode: 401,
          error: 'Invalid token',
          oauthError: 'invalid_token',
        },
      ]);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
      // The JWT itself still verifies locally: plain fields cannot know.
      expect((await post('{ posts }', token)).body).toEqual({ data: { posts: ['post'] } });
    });

    it('a query selecting two @RequireActiveToken fields asks the realm once', async () => {
      const token = await issue();
      const before = realm.counts.introspect;
      expect((await post('{ live liveToo }', token)).body).toEqual({
        data: { live: true, liveToo: true },
      });
      expect(realm.counts.introspect - before).toBe(1);
    });

    it('a mutation running a @RequireActiveToken field twice (in series) asks the realm per field', async () => {
      // Root fields of a query run concurrently and share the in-flight introspection; mutation
      // fields run one after the other, so with cacheTtlMs: 0 each asks again. With the cache on
      // (the default) the second is a cache hit.
      const token = await issue();
      const before = realm.counts.introspect;
      expect((await post('mutation { a: touch b: touch }', token)).body).toEqual({
        data: { a: true, b: true },
      });
      expect(realm.counts.introspect - before).toBe(2);
    });

    it('the introspection endpoint down: SERVICE_UNAVAILABLE on that field only, never a pass', async () => {
      const token = await issue();
      realm.intercept.introspect = (_req, res) => (
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"x"}'),
        true
      );
      const res = await post('{ posts live }', token);
      expect(res.body.data).toEqual({ posts: ['post'], live: null });
      expect(extensionsOf(res)).toEqual([
        { code: 'SERVICE_UNAVAILABLE', statusCode: 503, error: 'Service Unavailable' },
      ]);
    });

    it('a token revoked through RevocationService is refused on every field', async () => {
      const token = await issue();
      await gql.app.get(RevocationService).revoke(token);
      const res = await post('{ posts live }', token);
      expect(res.body.data).toEqual({ posts: null, live: null });
      expect(res.body.errors?.map((e) => e.message)).toEqual([
        'The access token was revoked',
        'The access token was revoked',
      ]);
    });
  });

  describe('a TCP microservice (token in NestJS 12 packet metadata)', () => {
    let app: INestMicroservice;
    let client: ClientProxy;
    let token: string | undefined;

    beforeAll(async () => {
      const port = await freePort();
      const moduleRef = await Test.createTestingModule({
        imports: [VoxKeyModule.forRoot(options())],
        controllers: [LiveRpcController],
      }).compile();
      app = moduleRef.createNestMicroservice<MicroserviceOptions>({
        transport: Transport.TCP,
        options: { host: '127.0.0.1', port },
        logger,
      });
      await app.listen();
      client = ClientProxyFactory.create({
        transport: Transport.TCP,
        options: { host: '127.0.0.1', port },
      } as TcpClientOptions);
      sendAuthorization(client, () => token && `Bearer ${token}`);
    });
    afterAll(async () => {
      await client?.close();
      await app?.close();
    });

    it('a @RequireActiveToken pattern answers before revocation and is refused after; a @Scopes one still answers', async () => {
      token = await issue();
      const before = realm.counts.introspect;
      expect(await reply(client, 'posts')).toEqual({ value: ['post'] });
      expect(realm.counts.introspect - before).toBe(0);
      expect(await reply(client, 'live')).toEqual({ value: { live: true } });
      expect(realm.counts.introspect - before).toBe(1);
      await realm.revoke(token);
      expect(await reply(client, 'live')).toEqual({ error: INACTIVE });
      expect(realm.counts.introspect - before).toBe(2);
      expect(await reply(client, 'posts')).toEqual({ value: ['post'] });
    });

    it('the introspection endpoint down: the @RequireActiveToken pattern answers 503, never a pass', async () => {
      token = await issue();
      realm.intercept.introspect = (_req, res) => (res.writeHead(200).end('<html>'), true);
      expect(await reply(client, 'live')).toEqual({
        error: {
          status: 'error',
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'The access token cannot be validated right now; try again later',
        },
      });
      expect(await reply(client, 'posts')).toEqual({ value: ['post'] });
    });
  });

  describe("validation: 'introspection': a socket.io socket is closed at the answer's exp", () => {
    let app: INestApplication;
    let url: string;
    const sockets: Socket[] = [];

    beforeAll(async () => {
      const started = await createGatewayApp(
        [
          VoxKeyModule.forRoot(
            options({ audience: OPAQUE_RESOURCE, validation: 'introspection', clockTolerance: 0 }),
          ),
        ],
        [PostsGateway],
        { logger },
      );
      app = started.app;
      url = `http://127.0.0.1:${started.port}`;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.close();
      await app?.close();
    });

    const connect = async (token: string) => {
      const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false });
      sockets.push(socket);
      await nextEvent(socket, 'connect');
      return socket;
    };

    it('one message answered, then the invalid_token exception and a server disconnect; nothing answered after', async () => {
      realm.accessTokenTtl = 2;
      const issuedAt = Date.now();
      const token = await issue({ resource: OPAQUE_RESOURCE });
      expect(token.split('.')).toHaveLength(1); // opaque: only introspection can tell its exp
      const socket = await connect(token);
      const events: string[] = [];
      socket.on('exception', (e: { code?: string; message?: string }) =>
        events.push(`exception ${e.code} ${e.message}`),
      );
      socket.on('disconnect', (reason) => events.push(`disconnect ${reason}`));
      const gateway = app.get(PostsGateway);
      const runs = gateway.runs;

      expect(await emit(socket, 'posts')).toEqual({ ack: ['post'] });
      // The answer's exp is at most 2 s after issuance; clockTolerance is 0.
      await nextEvent(socket, 'disconnect', issuedAt + 2_000 + 3_000 - Date.now());
      expect(events).toEqual([
        'exception invalid_token The access token expired',
        'disconnect io server disconnect',
      ]);
      expect(gateway.server.sockets.sockets.size).toBe(0);

      // The same (now expired) token on a new connection is refused by the realm's answer.
      const again = await connect(token);
      expect(await emit(again, 'posts')).toEqual({ exception: INACTIVE });
      expect(gateway.runs - runs).toBe(1);
    });

    it('each message asks the realm again, yet the socket keeps one close timer and one set of listeners', async () => {
      const token = await issue({ resource: OPAQUE_RESOURCE });
      const socket = await connect(token);
      const serverSocket = app.get(PostsGateway).server.sockets.sockets.get(socket.id!)!;
      const before = realm.counts.introspect;
      expect(await emit(socket, 'posts')).toEqual({ ack: ['post'] });
      const listeners = serverSocket.listenerCount('disconnect');
      for (let i = 0; i < 11; i++) expect(await emit(socket, 'posts')).toEqual({ ack: ['post'] });
      // cacheTtlMs: 0, and an introspected socket has no key to reuse its verification with.
      expect(realm.counts.introspect - before).toBe(12);
      expect(serverSocket.listenerCount('disconnect')).toBe(listeners);
    });
  });

  it('never logged a token or an "Internal server error"', () => {
    const log = logger.lines.join('\n');
    expect(issued.length).toBeGreaterThan(5);
    for (const token of issued) expect(log).not.toContain(token.split('.').at(-1));
    expect(log).not.toContain('Internal server error');
  });
});
