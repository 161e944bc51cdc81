import { headers as natsHeaders } from '@nats-io/transport-node';
import type { INestMicroservice } from '@nestjs/common';
import {
  type ClientProxy,
  ClientProxyFactory,
  type ClientOptions,
  type MicroserviceOptions,
  NatsRecordBuilder,
  Transport,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import { VoxKeyModule } from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { CaptureLogger } from '../support/capture-logger';
import { describeWithRedis, RedisServer } from '../support/redis-server';
import { describeWithNats, NatsServer } from '../support/rpc-nats-server';
import {
  REFUSALS,
  reply,
  RpcPostsController,
  sendAuthorization,
  until,
} from '../support/rpc-handlers';

/** A standalone microservice on `transport` with the global guards, and a client for it. */
async function boot(
  realm: VoxKeyTestRealm,
  transport: MicroserviceOptions & ClientOptions,
  logger: CaptureLogger,
) {
  const moduleRef = await Test.createTestingModule({
    imports: [VoxKeyModule.forRoot(realm.moduleOptions())],
    controllers: [RpcPostsController],
  }).compile();
  const app: INestMicroservice = moduleRef.createNestMicroservice<MicroserviceOptions>({
    ...transport,
    logger,
  });
  await app.listen();
  const client: ClientProxy = ClientProxyFactory.create(transport);
  await client.connect();
  return { app, client, controller: app.get(RpcPostsController) };
}

/** No minted token in the log, and no "Internal server error". */
function expectCleanLog(logger: CaptureLogger, minted: string[]) {
  const log = logger.lines.join('\n');
  expect(minted.length).toBeGreaterThan(2);
  for (const token of minted) expect(log).not.toContain(token.split('.')[1]);
  expect(log).not.toContain('Internal server error');
}

describeWithRedis('Redis transport (real redis-server, NestJS 12 packet metadata)', () => {
  let redis: RedisServer;
  let realm: VoxKeyTestRealm;
  let app: INestMicroservice | undefined;
  let client: ClientProxy | undefined;
  let controller: RpcPostsController;
  let authorization: string | undefined;
  const logger = new CaptureLogger();
  const minted: string[] = [];
  const as = (options?: Parameters<VoxKeyTestRealm['mint']>[0]) => {
    const token = realm.mint(options);
    minted.push(token);
    authorization = `Bearer ${token}`;
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    realm = await VoxKeyTestRealm.start();
    ({ app, client, controller } = await boot(
      realm,
      { transport: Transport.REDIS, options: { host: '127.0.0.1', port: redis.port } },
      logger,
    ));
    sendAuthorization(client, () => authorization);
  });
  afterAll(async () => {
    await client?.close();
    await app?.close();
    await realm?.close();
    await redis?.stop();
  });

  it('a valid token in the packet metadata is accepted', async () => {
    as({ subject: 'carol', scope: 'read:posts' });
    expect(await reply(client!, 'guarded')).toEqual({ value: 'guarded' });
    expect(await reply(client!, 'me')).toEqual({ value: { sub: 'carol', scope: 'read:posts' } });
  });

  it('no token: the 401 object; a public pattern still answers', async () => {
    authorization = undefined;
    expect(await reply(client!, 'guarded')).toEqual({ error: REFUSALS.missing });
    expect(await reply(client!, 'open')).toEqual({ value: 'open' });
  });

  it('an expired token: 401 invalid_token; a missing scope: 403', async () => {
    as({ expiresIn: -60 });
    expect(await reply(client!, 'guarded')).toEqual({ error: REFUSALS.expired });
    as({ scope: 'write:posts' });
    expect(await reply(client!, 'posts')).toEqual({ error: REFUSALS.scope });
  });

  it('a denied event handler does not run', async () => {
    authorization = undefined;
    await lastValueFrom(client!.emit('post.created', 'no token'), { defaultValue: undefined });
    as();
    await lastValueFrom(client!.emit('post.created', 'allowed'), { defaultValue: undefined });
    await until(() => controller.events.length > 0);
    expect(controller.events).toEqual(['allowed']);
  });

  it('never logged a token, nor an "Internal server error"', () => {
    expectCleanLog(logger, minted);
  });
});

describeWithNats('NATS transport (real nats-server, message headers)', () => {
  let nats: NatsServer;
  let realm: VoxKeyTestRealm;
  let app: INestMicroservice | undefined;
  let client: ClientProxy | undefined;
  let controller: RpcPostsController;
  const logger = new CaptureLogger();
  const minted: string[] = [];
  const mint = (options?: Parameters<VoxKeyTestRealm['mint']>[0]) => {
    const token = realm.mint(options);
    minted.push(token);
    return token;
  };
  /** A NATS record whose headers hold these `[name, value]` pairs. */
  const record = (data: unknown, ...pairs: [string, string][]) => {
    const headers = natsHeaders();
    for (const [name, value] of pairs) headers.append(name, value);
    return new NatsRecordBuilder(data).setHeaders(headers).build();
  };

  beforeAll(async () => {
    nats = await NatsServer.start();
    realm = await VoxKeyTestRealm.start();
    ({ app, client, controller } = await boot(
      realm,
      { transport: Transport.NATS, options: { servers: [nats.url] } },
      logger,
    ));
  });
  afterAll(async () => {
    await client?.close();
    await app?.close();
    await realm?.close();
    await nats?.stop();
  });

  it('a valid token in the authorization header is accepted, the name in any letter case', async () => {
    const token = mint({ subject: 'dave' });
    expect(
      await reply(client!, 'guarded', record({}, ['authorization', `Bearer ${token}`])),
    ).toEqual({ value: 'guarded' });
    expect(await reply(client!, 'me', record({}, ['Authorization', `Bearer ${token}`]))).toEqual({
      value: { sub: 'dave' },
    });
  });

  it('no token: the 401 object; a public pattern still answers', async () => {
    expect(await reply(client!, 'guarded', record({}))).toEqual({ error: REFUSALS.missing });
    expect(await reply(client!, 'guarded', {})).toEqual({ error: REFUSALS.missing });
    expect(await reply(client!, 'open', {})).toEqual({ value: 'open' });
  });

  it('a missing scope: 403; two different values: 400 invalid_request', async () => {
    const scoped = record({}, ['authorization', `Bearer ${mint({ scope: 'write:posts' })}`]);
    expect(await reply(client!, 'posts', scoped)).toEqual({ error: REFUSALS.scope });
    const twice = record(
      {},
      ['authorization', `Bearer ${mint()}`],
      ['Authorization', `Bearer ${mint()}`],
    );
    expect(await reply(client!, 'guarded', twice)).toEqual({ error: REFUSALS.malformed });
  });

  it('a denied event handler does not run', async () => {
    await lastValueFrom(client!.emit('post.created', record('no token')), {
      defaultValue: undefined,
    });
    const allowed = record('allowed', ['authorization', `Bearer ${mint()}`]);
    await lastValueFrom(client!.emit('post.created', allowed), { defaultValue: undefined });
    await until(() => controller.events.length > 0);
    expect(controller.events).toEqual(['allowed']);
  });

  it('never logged a token, nor an "Internal server error"', () => {
    expectCleanLog(logger, minted);
  });
});
