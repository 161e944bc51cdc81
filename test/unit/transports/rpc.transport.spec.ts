import { Metadata } from '@grpc/grpc-js';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { ExecutionContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import {
  KafkaContext,
  MqttContext,
  NatsContext,
  RedisContext,
  RmqContext,
  RpcException,
  TcpContext,
} from '@nestjs/microservices';
import {
  AuthUnavailableException,
  InsufficientScopeException,
  InvalidRequestException,
  InvalidTokenException,
  MissingTokenException,
} from '../../../lib/errors/bearer.exceptions';
import type { ResolvedVoxKeyOptions } from '../../../lib/interfaces/resolved-voxkey-options.interface';
import { rpcTransport } from '../../../lib/transports/rpc.transport';

const TOKEN = 'aaa.bbb.ccc';
const OTHER = 'ddd.eee.fff';
const REALM = 'https://api.example.test';

class Handlers {
  handle() {}
}

/** An RPC execution context as NestJS builds one for a message: `[data, transport context]`. */
function rpcCall(ctx: unknown, data: unknown = {}): ExecutionContext {
  const host = new ExecutionContextHost([data, ctx], Handlers, Handlers.prototype.handle);
  host.setType('rpc');
  return host;
}

const options = (getToken?: (data: unknown, ctx: unknown) => string | undefined) =>
  ({ contexts: { rpc: { getToken } } }) as unknown as ResolvedVoxKeyOptions;

const credentialsOf = (ctx: unknown, data?: unknown, getToken?: Parameters<typeof options>[0]) =>
  rpcTransport.credentials(rpcCall(ctx, data), options(getToken));

function grpcMetadata(...values: string[]): Metadata {
  const metadata = new Metadata();
  for (const value of values) metadata.add('authorization', value);
  return metadata;
}

function natsContext(...pairs: [string, string][]): NatsContext {
  const headers = natsHeaders();
  for (const [name, value] of pairs) headers.append(name, value);
  return new NatsContext(['posts.list', headers]);
}

const kafkaContext = (headers: Record<string, unknown>) =>
  new KafkaContext([
    { key: null, value: Buffer.from('{}'), timestamp: '0', attributes: 0, offset: '0', headers },
    0,
    'posts',
    {} as never,
    async () => undefined,
    {} as never,
  ] as unknown as ConstructorParameters<typeof KafkaContext>[0]);

const rmqContext = (headers: Record<string, unknown> | undefined) =>
  new RmqContext([
    { content: Buffer.from('{}'), fields: {}, properties: { headers } },
    {},
    'posts',
  ]);

const mqttContext = (packet: Record<string, unknown>) => new MqttContext(['posts', packet]);

const token = (value: string) => ({ kind: 'token', token: value });
const MISSING = { kind: 'missing' };
const malformed = expect.objectContaining({ kind: 'malformed' });

describe('rpcTransport.credentials: each transport’s header place', () => {
  describe('gRPC (Metadata)', () => {
    it('reads the authorization metadata', () => {
      expect(credentialsOf(grpcMetadata(`Bearer ${TOKEN}`))).toEqual(token(TOKEN));
    });

    it('no authorization metadata is no token, not several values', () => {
      expect(credentialsOf(new Metadata())).toEqual(MISSING);
    });

    it('another scheme is no token; several values are malformed', () => {
      expect(credentialsOf(grpcMetadata('Basic dXNlcjpwYXNz'))).toEqual(MISSING);
      expect(credentialsOf(grpcMetadata(`Bearer ${TOKEN}`, `Bearer ${TOKEN}`))).toEqual(malformed);
    });
  });

  describe('NATS (NatsContext headers)', () => {
    it('reads the authorization header whatever its letter case', () => {
      expect(credentialsOf(natsContext(['authorization', `Bearer ${TOKEN}`]))).toEqual(
        token(TOKEN),
      );
      expect(credentialsOf(natsContext(['Authorization', `Bearer ${TOKEN}`]))).toEqual(
        token(TOKEN),
      );
    });

    it('a message without headers has no token; two values are malformed', () => {
      expect(credentialsOf(new NatsContext(['posts.list', undefined]))).toEqual(MISSING);
      expect(credentialsOf(natsContext(['x-trace', '1']))).toEqual(MISSING);
      expect(
        credentialsOf(
          natsContext(['authorization', `Bearer ${TOKEN}`], ['Authorization', `Bearer ${OTHER}`]),
        ),
      ).toEqual(malformed);
    });
  });

  describe('TCP and Redis (NestJS 12 packet metadata)', () => {
    it.each([
      [
        'TcpContext',
        (metadata?: Record<string, string>) => new TcpContext([{} as never, 'posts', metadata]),
      ],
      [
        'RedisContext',
        (metadata?: Record<string, string>) => new RedisContext(['posts', metadata]),
      ],
    ])('%s: reads metadata.authorization, any letter case', (_name, make) => {
      expect(credentialsOf(make({ authorization: `Bearer ${TOKEN}` }))).toEqual(token(TOKEN));
      expect(credentialsOf(make({ Authorization: `Bearer ${TOKEN}` }))).toEqual(token(TOKEN));
      expect(credentialsOf(make())).toEqual(MISSING);
      expect(credentialsOf(make({ traceId: '1' }))).toEqual(MISSING);
      expect(
        credentialsOf(make({ authorization: `Bearer ${TOKEN}`, AUTHORIZATION: `Bearer ${OTHER}` })),
      ).toEqual(malformed);
    });
  });

  describe('Kafka (message headers)', () => {
    it('reads a Buffer value, as kafkajs delivers it, and a string one', () => {
      expect(
        credentialsOf(kafkaContext({ authorization: Buffer.from(`Bearer ${TOKEN}`) })),
      ).toEqual(token(TOKEN));
      expect(credentialsOf(kafkaContext({ authorization: `Bearer ${TOKEN}` }))).toEqual(
        token(TOKEN),
      );
    });

    it('no header is no token; several values are malformed', () => {
      expect(credentialsOf(kafkaContext({}))).toEqual(MISSING);
      expect(
        credentialsOf(
          kafkaContext({
            authorization: [Buffer.from(`Bearer ${TOKEN}`), Buffer.from(`Bearer ${OTHER}`)],
          }),
        ),
      ).toEqual(malformed);
    });
  });

  describe('RabbitMQ (message properties.headers)', () => {
    it('reads the authorization header', () => {
      expect(credentialsOf(rmqContext({ authorization: `Bearer ${TOKEN}` }))).toEqual(token(TOKEN));
    });

    it('no headers is no token', () => {
      expect(credentialsOf(rmqContext(undefined))).toEqual(MISSING);
    });
  });

  describe('MQTT 5 (packet user properties)', () => {
    it('reads the authorization user property', () => {
      const packet = { properties: { userProperties: { authorization: `Bearer ${TOKEN}` } } };
      expect(credentialsOf(mqttContext(packet))).toEqual(token(TOKEN));
    });

    it('a property sent twice is malformed; MQTT 3.1.1 (no properties) has no token', () => {
      const twice = {
        properties: { userProperties: { authorization: [`Bearer ${TOKEN}`, `Bearer ${OTHER}`] } },
      };
      expect(credentialsOf(mqttContext(twice))).toEqual(malformed);
      expect(credentialsOf(mqttContext({ topic: 'posts', payload: Buffer.from('{}') }))).toEqual(
        MISSING,
      );
    });
  });

  it('a context the library does not know has no token', () => {
    expect(credentialsOf(undefined)).toEqual(MISSING);
    expect(credentialsOf({ something: 'else' })).toEqual(MISSING);
  });

  describe('contexts.rpc.getToken', () => {
    it('gets the payload and the transport context, and may give the raw token or Bearer', () => {
      const ctx = mqttContext({ topic: 'posts' });
      const getToken = jest.fn((data: unknown) => (data as { token: string }).token);
      expect(credentialsOf(ctx, { token: TOKEN }, getToken)).toEqual(token(TOKEN));
      expect(getToken).toHaveBeenCalledWith({ token: TOKEN }, ctx);
      expect(credentialsOf(ctx, { token: `Bearer ${TOKEN}` }, getToken)).toEqual(token(TOKEN));
    });

    it('nothing from getToken falls back to the transport header; neither is no token', () => {
      const none = () => undefined;
      expect(credentialsOf(grpcMetadata(`Bearer ${TOKEN}`), {}, none)).toEqual(token(TOKEN));
      expect(credentialsOf(new Metadata(), {}, none)).toEqual(MISSING);
    });

    it('a different token in the header is malformed; the same one is that token', () => {
      const fromPayload = (data: unknown) => (data as { token: string }).token;
      const ctx = new TcpContext([{} as never, 'posts', { authorization: `Bearer ${OTHER}` }]);
      expect(credentialsOf(ctx, { token: TOKEN }, fromPayload)).toEqual(malformed);
      expect(credentialsOf(ctx, { token: OTHER }, fromPayload)).toEqual(token(OTHER));
    });

    it('a value that is not a string is malformed', () => {
      const ctx = new TcpContext([{} as never, 'posts', undefined]);
      expect(credentialsOf(ctx, {}, () => 42 as unknown as string)).toEqual(malformed);
    });
  });
});

describe('rpcTransport: the user is kept per message', () => {
  it('on the message’s context object, never shared with another message', () => {
    const first = rpcCall(new TcpContext([{} as never, 'posts', undefined]));
    const second = rpcCall(new TcpContext([{} as never, 'posts', undefined]));
    rpcTransport.setUser(first, { sub: 'alice' }, TOKEN);
    expect(rpcTransport.getUser(first)).toEqual({ sub: 'alice' });
    expect(rpcTransport.getToken(first)).toBe(TOKEN);
    expect(rpcTransport.getUser(second)).toBeUndefined();
    expect(rpcTransport.getToken(second)).toBeUndefined();
    expect(rpcTransport.session(first)).toBeUndefined();
  });
});

describe('rpcTransport.refuse', () => {
  const refusals = [
    ['no token', 16, 'No token', `Bearer realm="${REALM}"`, new MissingTokenException(REALM)],
    [
      'an invalid token',
      16,
      'Invalid token',
      `Bearer realm="${REALM}", error="invalid_token", error_description="The access token expired"`,
      new InvalidTokenException(REALM, 'expired'),
    ],
    [
      'a missing scope',
      7,
      'Insufficient scope',
      `Bearer realm="${REALM}", error="insufficient_scope", error_description="The access token lacks a required scope", scope="read:posts"`,
      new InsufficientScopeException(REALM, 'read:posts'),
    ],
    [
      'malformed credentials',
      3,
      'Invalid request',
      `Bearer realm="${REALM}", error="invalid_request", error_description="The Authorization header is malformed"`,
      new InvalidRequestException(REALM),
    ],
    ['an outage', 14, 'Service Unavailable', undefined, new AuthUnavailableException(5)],
  ] as const;

  it.each(refusals)(
    'gRPC, %s: status %d, details %s, the challenge as a trailer of the incoming Metadata class',
    async (_name, code, details, challenge, refusal) => {
      const error = await rpcTransport.refuse(rpcCall(new Metadata()), refusal);
      expect(error).toBeInstanceOf(RpcException);
      const { metadata, ...rest } = (error as RpcException).getError() as {
        metadata: Metadata;
      };
      expect(rest).toEqual({ code, message: details });
      expect(metadata).toBeInstanceOf(Metadata);
      expect(metadata.get('www-authenticate')).toEqual(challenge === undefined ? [] : [challenge]);
    },
  );

  it('other transports: exactly { status, statusCode, error, code?, scope?, message }', async () => {
    const ctx = new NatsContext(['posts', undefined]);
    const errors = await Promise.all(
      refusals.map(async ([, , , , refusal]) =>
        ((await rpcTransport.refuse(rpcCall(ctx), refusal)) as RpcException).getError(),
      ),
    );
    expect(errors).toEqual([
      {
        status: 'error',
        statusCode: 401,
        error: 'No token',
        message: 'A Bearer access token is required in the Authorization header',
      },
      {
        status: 'error',
        statusCode: 401,
        error: 'Invalid token',
        code: 'invalid_token',
        message: 'The access token expired',
      },
      {
        status: 'error',
        statusCode: 403,
        error: 'Insufficient scope',
        code: 'insufficient_scope',
        scope: 'read:posts',
        message: 'The access token lacks a required scope',
      },
      {
        status: 'error',
        statusCode: 400,
        error: 'Invalid request',
        code: 'invalid_request',
        message: 'The Authorization header is malformed',
      },
      {
        status: 'error',
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'The access token cannot be validated right now; try again later',
      },
    ]);
  });
});
