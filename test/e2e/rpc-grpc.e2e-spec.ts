import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Controller, type INestMicroservice } from '@nestjs/common';
import { GrpcMethod, type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { join } from 'node:path';
import { from, type Observable } from 'rxjs';
import { Public, Scopes, VoxKeyModule, VoxKeyUser, type VoxKeyClaims } from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { CaptureLogger } from '../support/capture-logger';
import { freePort } from '../support/free-port';

const PROTO = join(__dirname, '../support/rpc-posts.proto');

@Controller()
class PostsGrpcController {
  streamed = 0;

  @Public()
  @GrpcMethod('Posts', 'Open')
  open() {
    return { text: 'open' };
  }

  @GrpcMethod('Posts', 'Guarded')
  guarded() {
    return { text: 'guarded' };
  }

  @Scopes('read:posts')
  @GrpcMethod('Posts', 'ReadPosts')
  readPosts() {
    return { text: 'posts' };
  }

  @GrpcMethod('Posts', 'Me')
  me(_data: unknown, _metadata: unknown, _call: unknown, @VoxKeyUser() user?: VoxKeyClaims) {
    return { text: JSON.stringify({ sub: user?.sub, scope: user?.scope }) };
  }

  @GrpcMethod('Posts', 'List')
  list(): Observable<{ text: string }> {
    this.streamed++;
    return from([{ text: 'first' }, { text: 'second' }]);
  }
}

type Unary = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, reply?: { text: string }) => void,
) => void;
type ServerStream = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
) => grpc.ClientReadableStream<{ text: string }>;
type PostsClient = grpc.Client & Record<string, Unary> & { List: ServerStream };

/** Metadata with these `authorization` values, in order. */
function withAuthorization(...values: string[]): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const value of values) metadata.add('authorization', value);
  return metadata;
}

describe('gRPC microservice (real @grpc/grpc-js client)', () => {
  let realm: VoxKeyTestRealm;
  let app: INestMicroservice;
  let client: PostsClient;
  let controller: PostsGrpcController;
  const logger = new CaptureLogger();
  const minted: string[] = [];
  const mint = (...args: Parameters<VoxKeyTestRealm['mint']>) => {
    const token = realm.mint(...args);
    minted.push(token);
    return token;
  };

  /** A unary call's outcome: the reply, or the error (bounded by a 5 s deadline). */
  const call = (method: string, metadata = new grpc.Metadata()) =>
    new Promise<{ reply?: { text: string }; error?: grpc.ServiceError }>((resolve) => {
      client[method]({}, metadata, { deadline: Date.now() + 5000 }, (error, reply) =>
        resolve(error ? { error } : { reply }),
      );
    });
  const bearer = (token: string) => withAuthorization(`Bearer ${token}`);

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
    const port = await freePort();
    const moduleRef = await Test.createTestingModule({
      imports: [VoxKeyModule.forRoot(realm.moduleOptions({ jwks: { cooldownMs: 0 } }))],
      controllers: [PostsGrpcController],
    }).compile();
    app = moduleRef.createNestMicroservice<MicroserviceOptions>({
      transport: Transport.GRPC,
      options: { package: 'posts', protoPath: PROTO, url: `127.0.0.1:${port}` },
      logger,
    });
    await app.listen();
    controller = app.get(PostsGrpcController);
    const definition = protoLoader.loadSync(PROTO);
    const { posts } = grpc.loadPackageDefinition(definition) as unknown as {
      posts: { Posts: new (address: string, credentials: grpc.ChannelCredentials) => PostsClient };
    };
    client = new posts.Posts(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await app?.close();
    await realm?.close();
  });

  it('lets a public method through without a token', async () => {
    expect(await call('Open')).toEqual({ reply: { text: 'open' } });
  });

  it('accepts a valid token in the authorization metadata, the scheme in any letter case', async () => {
    expect(await call('Guarded', bearer(mint()))).toEqual({ reply: { text: 'guarded' } });
    expect(await call('Guarded', withAuthorization(`bearer ${mint()}`))).toEqual({
      reply: { text: 'guarded' },
    });
  });

  it('without a token: 16 UNAUTHENTICATED "No token", with the Bearer challenge as a trailer', async () => {
    const { error } = await call('Guarded');
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error?.details).toBe('No token');
    expect(error?.metadata.get('www-authenticate')).toEqual([
      `Bearer realm="${String(realm.audience)}"`,
    ]);
  });

  it('another scheme (Basic) is no token, as on HTTP (RFC 6750 §3.1)', async () => {
    const { error } = await call('Guarded', withAuthorization('Basic dXNlcjpwYXNz'));
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error?.details).toBe('No token');
  });

  it.each([
    ['a forged signature', () => `${mint().slice(0, -4)}AAAA`],
    ['an expired token', () => mint({ expiresIn: -60 })],
    ['a token for another audience', () => mint({ claims: { aud: 'https://other.test' } })],
  ])('%s: 16 "Invalid token", error="invalid_token" in the trailer', async (_name, token) => {
    const { error } = await call('Guarded', bearer(token()));
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error?.details).toBe('Invalid token');
    const [challenge] = error!.metadata.get('www-authenticate') as string[];
    expect(challenge).toMatch(/^Bearer realm="[^"]+", error="invalid_token", error_description="/);
  });

  it('a missing scope: 7 PERMISSION_DENIED, the scope in the trailer', async () => {
    const { error } = await call('ReadPosts', bearer(mint({ scope: 'write:posts' })));
    expect(error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error?.details).toBe('Insufficient scope');
    const [challenge] = error!.metadata.get('www-authenticate') as string[];
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="read:posts"');
    expect(await call('ReadPosts', bearer(mint({ scope: 'read:posts' })))).toEqual({
      reply: { text: 'posts' },
    });
  });

  it.each([
    ['junk after the scheme', () => withAuthorization('Bearer not a token')],
    // HTTP/2 drops a field value ending in a space ('Bearer '), so send the bare scheme.
    ['the scheme without credentials', () => withAuthorization('Bearer')],
    // A real client cannot send two `authorization` values (grpc-js and Node's HTTP/2 refuse
    // to), but a proxy may join them into one (the unit tests cover a Metadata holding two).
    ['two credentials joined by a proxy', () => withAuthorization(`Bearer ${mint()}, Bearer x`)],
  ])('%s: 3 INVALID_ARGUMENT, error="invalid_request"', async (_name, metadata) => {
    const { error } = await call('Guarded', metadata());
    expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error?.details).toBe('Invalid request');
    const [challenge] = error!.metadata.get('www-authenticate') as string[];
    expect(challenge).toContain('error="invalid_request"');
  });

  it('the key set unreachable: 14 UNAVAILABLE, never a pass, never 2 UNKNOWN', async () => {
    realm.jwksAvailable = false;
    try {
      const token = mint({ header: { kid: 'not-yet-fetched' } });
      const { error } = await call('Guarded', bearer(token));
      expect(error?.code).toBe(grpc.status.UNAVAILABLE);
      expect(error?.details).toBe('Service Unavailable');
    } finally {
      realm.jwksAvailable = true;
    }
  });

  it('@VoxKeyUser() gives the handler the verified claims', async () => {
    const { reply } = await call('Me', bearer(mint({ subject: 'alice', scope: 'read:posts' })));
    expect(JSON.parse(reply!.text)).toEqual({ sub: 'alice', scope: 'read:posts' });
  });

  describe('a server stream', () => {
    /** The stream's messages and how it ended (bounded by a 5 s deadline). */
    const stream = (metadata = new grpc.Metadata()) =>
      new Promise<{ messages: string[]; error?: grpc.ServiceError }>((resolve) => {
        const messages: string[] = [];
        const call = client.List({}, metadata, { deadline: Date.now() + 5000 });
        call.on('data', (reply: { text: string }) => messages.push(reply.text));
        call.on('error', (error: grpc.ServiceError) => resolve({ messages, error }));
        call.on('end', () => resolve({ messages }));
      });

    it('with a valid token streams every message', async () => {
      expect(await stream(bearer(mint()))).toEqual({ messages: ['first', 'second'] });
    });

    it('with a bad token ends with 16 before any message, and the handler never runs', async () => {
      const before = controller.streamed;
      const { messages, error } = await stream(bearer(mint({ expiresIn: -60 })));
      expect(messages).toEqual([]);
      expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(error?.details).toBe('Invalid token');
      expect(controller.streamed).toBe(before);
    });
  });

  it('never logged a token, nor an "Internal server error"', () => {
    const log = logger.lines.join('\n');
    expect(minted.length).toBeGreaterThan(5);
    for (const token of minted) expect(log).not.toContain(token.split('.')[1]);
    expect(log).not.toContain('Internal server error');
  });
});
