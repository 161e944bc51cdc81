import type { INestApplication, INestMicroservice } from '@nestjs/common';
import {
  type ClientProxy,
  ClientProxyFactory,
  type MicroserviceOptions,
  type TcpClientOptions,
  Transport,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import { VoxKeyModule, type VoxKeyModuleOptions } from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { CaptureLogger } from '../support/capture-logger';
import {
  REFUSALS,
  reply,
  RpcPostsController,
  sendAuthorization,
  until,
} from '../support/rpc-handlers';
import { freePort } from '../support/free-port';

const tcpClient = (port: number): ClientProxy =>
  ClientProxyFactory.create({
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
  } as TcpClientOptions);

describe('TCP microservice (real Nest TCP client)', () => {
  let realm: VoxKeyTestRealm;
  const logger = new CaptureLogger();
  const minted: string[] = [];
  const mint = (...args: Parameters<VoxKeyTestRealm['mint']>) => {
    const token = realm.mint(...args);
    minted.push(token);
    return token;
  };
  // One application at a time: the library's Passport strategies are process-wide.
  const opened: { close(): Promise<unknown> | void }[] = [];
  const closeOpened = async () => {
    for (const item of opened.splice(0).reverse()) await item.close();
  };

  /** A standalone TCP microservice with the global guards, and a client for it. */
  async function standalone(options: Partial<VoxKeyModuleOptions> = {}) {
    const port = await freePort();
    const moduleRef = await Test.createTestingModule({
      imports: [VoxKeyModule.forRoot(realm.moduleOptions({ jwks: { cooldownMs: 0 }, ...options }))],
      controllers: [RpcPostsController],
    }).compile();
    const app: INestMicroservice = moduleRef.createNestMicroservice<MicroserviceOptions>({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger,
    });
    await app.listen();
    const client = tcpClient(port);
    opened.push(app, client);
    return { app, client, controller: app.get(RpcPostsController) };
  }

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
  });
  afterAll(async () => {
    await closeOpened();
    await realm?.close();
  });
  afterEach(() => expect(logger.lines.join('\n')).not.toContain('Internal server error'));

  describe('the token in NestJS 12 packet metadata', () => {
    let client: ClientProxy;
    let controller: RpcPostsController;
    let authorization: string | undefined;
    const as = (value: string | undefined) => (authorization = value);

    beforeAll(async () => {
      ({ client, controller } = await standalone());
      sendAuthorization(client, () => authorization);
    });
    afterAll(closeOpened);

    it('a public pattern answers without a token', async () => {
      as(undefined);
      expect(await reply(client, 'open')).toEqual({ value: 'open' });
    });

    it('a valid token is accepted and its claims reach @VoxKeyUser()', async () => {
      as(`Bearer ${mint({ subject: 'bob', scope: 'read:posts' })}`);
      expect(await reply(client, 'guarded')).toEqual({ value: 'guarded' });
      expect(await reply(client, 'posts')).toEqual({ value: ['a post'] });
      expect(await reply(client, 'me')).toEqual({ value: { sub: 'bob', scope: 'read:posts' } });
    });

    it.each([
      ['no token', () => undefined, REFUSALS.missing],
      ['another scheme', () => 'Basic dXNlcjpwYXNz', REFUSALS.missing],
      ['an expired token', () => `Bearer ${mint({ expiresIn: -60 })}`, REFUSALS.expired],
      ['junk after the token', () => `Bearer ${mint()} junk`, REFUSALS.malformed],
    ])('%s: the client gets exactly the error object', async (_name, value, expected) => {
      as(value());
      expect(await reply(client, 'guarded')).toEqual({ error: expected });
    });

    it('a token without the scope: 403 insufficient_scope with the scope', async () => {
      as(`Bearer ${mint({ scope: 'write:posts' })}`);
      expect(await reply(client, 'posts')).toEqual({ error: REFUSALS.scope });
    });

    it('the key set unreachable: 503, never a pass and never "Internal server error"', async () => {
      realm.jwksAvailable = false;
      try {
        as(`Bearer ${mint({ header: { kid: 'not-yet-fetched' } })}`);
        expect(await reply(client, 'guarded')).toEqual({ error: REFUSALS.unavailable });
      } finally {
        realm.jwksAvailable = true;
      }
    });

    it('a denied @EventPattern handler does not run', async () => {
      const emit = (authorizationValue: string | undefined, data: string) => {
        as(authorizationValue);
        return lastValueFrom(client.emit('post.created', data), { defaultValue: undefined });
      };
      const errors = () => logger.lines.filter((line) => line.startsWith('error')).length;
      const before = errors();
      await emit(undefined, 'no token');
      await emit(`Bearer ${mint({ expiresIn: -60 })}`, 'expired');
      await emit(`Bearer ${mint()}`, 'allowed');
      // The allowed event was sent last, on the same connection.
      await until(() => controller.events.length > 0);
      expect(controller.events).toEqual(['allowed']);
      // NestJS logs each refused event at ERROR (an event has no response stream to carry it).
      expect(errors() - before).toBe(2);
    });
  });

  describe('contexts.rpc.getToken reading the payload (NestJS 11 style)', () => {
    let client: ClientProxy;

    beforeAll(async () => {
      ({ client } = await standalone({
        contexts: { rpc: { getToken: (data) => (data as { token?: string } | null)?.token } },
      }));
    });
    afterAll(closeOpened);

    it('the payload token is accepted, raw or as Bearer', async () => {
      expect(await reply(client, 'guarded', { token: mint() })).toEqual({ value: 'guarded' });
      expect(await reply(client, 'guarded', { token: `Bearer ${mint()}` })).toEqual({
        value: 'guarded',
      });
    });

    it('no token in the payload: 401; a bad one: 401 invalid_token', async () => {
      expect(await reply(client, 'guarded', {})).toEqual({ error: REFUSALS.missing });
      expect(await reply(client, 'guarded', { token: mint({ expiresIn: -60 }) })).toEqual({
        error: REFUSALS.expired,
      });
    });

    it('a payload token and a different metadata token: 400 invalid_request', async () => {
      const other = mint();
      sendAuthorization(client, () => `Bearer ${other}`);
      try {
        expect(await reply(client, 'guarded', { token: mint() })).toEqual({
          error: REFUSALS.malformed,
        });
        expect(await reply(client, 'guarded', { token: other })).toEqual({ value: 'guarded' });
        expect(await reply(client, 'guarded', {})).toEqual({ value: 'guarded' });
      } finally {
        sendAuthorization(client, () => undefined);
      }
    });
  });

  describe('a hybrid application (HTTP app + connectMicroservice)', () => {
    afterEach(closeOpened);

    /** A hybrid app whose TCP microservice inherits the app config or not, and a client for it. */
    async function hybrid(inheritAppConfig: boolean) {
      const port = await freePort();
      const moduleRef = await Test.createTestingModule({
        imports: [VoxKeyModule.forRoot(realm.moduleOptions())],
        controllers: [RpcPostsController],
      }).compile();
      const app: INestApplication = moduleRef.createNestApplication({ logger });
      app.connectMicroservice<MicroserviceOptions>(
        { transport: Transport.TCP, options: { host: '127.0.0.1', port } },
        { inheritAppConfig },
      );
      await app.startAllMicroservices();
      await app.init();
      const client = tcpClient(port);
      opened.push(app, client);
      return { client, controller: app.get(RpcPostsController) };
    }

    it('NestJS fails open without inheritAppConfig: the global guards never run', async () => {
      const { client, controller } = await hybrid(false);
      // Observed NestJS behaviour (11 and 12), not the library's: without a token, a protected
      // pattern answers and a denied event runs. The README's fix is inheritAppConfig: true.
      expect(await reply(client, 'guarded')).toEqual({ value: 'guarded' });
      await lastValueFrom(client.emit('post.created', 'unguarded'), { defaultValue: undefined });
      await until(() => controller.events.length > 0);
      expect(controller.events).toEqual(['unguarded']);
    });

    it('with inheritAppConfig: true the guards apply as on a standalone microservice', async () => {
      const { client } = await hybrid(true);
      expect(await reply(client, 'guarded')).toEqual({ error: REFUSALS.missing });
      sendAuthorization(client, () => `Bearer ${mint({ scope: 'write:posts' })}`);
      expect(await reply(client, 'guarded')).toEqual({ value: 'guarded' });
      expect(await reply(client, 'posts')).toEqual({ error: REFUSALS.scope });
    });
  });

  it('never logged a token, nor an "Internal server error"', () => {
    const log = logger.lines.join('\n');
    expect(minted.length).toBeGreaterThan(5);
    for (const token of minted) expect(log).not.toContain(token.split('.')[1]);
    expect(log).not.toContain('Internal server error');
  });
});
