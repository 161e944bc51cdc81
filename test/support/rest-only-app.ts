// Run by optional-peers.e2e-spec.ts in a process of its own: a REST app with VoxKeyModule serves
// a protected route, then prints which optional transport packages were requested (one JSON line).
import Module from 'node:module';

const OPTIONAL =
  /^(@nestjs\/(graphql|apollo|mercurius|websockets|microservices|platform-socket\.io|platform-ws)|graphql|graphql-ws|socket\.io|ws|@grpc\/grpc-js|mercurius)(\/|$)/;

// Every module request goes through Module._load, CommonJS and require(esm) alike; the hook is
// installed before the library is loaded. (A test-only hook into Node's loader.)
const requested: string[] = [];
const loader = Module as unknown as {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
};
const load = loader._load.bind(loader);
loader._load = (request, parent, isMain) => {
  if (OPTIONAL.test(request)) requested.push(request);
  return load(request, parent, isMain);
};

async function main(): Promise<void> {
  await import('reflect-metadata');
  const { Controller, Get } = await import('@nestjs/common');
  const { Test } = await import('@nestjs/testing');
  const { Scopes, VoxKeyModule } = await import('../../lib/index');
  const { VoxKeyTestRealm } = await import('../../lib/testing/index');

  @Controller('posts')
  class PostsController {
    @Get() @Scopes('read:posts') list() {
      return [];
    }
  }

  const realm = await VoxKeyTestRealm.start();
  const moduleRef = await Test.createTestingModule({
    imports: [VoxKeyModule.forRoot(realm.moduleOptions())],
    controllers: [PostsController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const url = `${await app.getUrl()}/posts`;
  const get = async (scope?: string) =>
    (
      await fetch(url, {
        headers: scope === undefined ? {} : { authorization: `Bearer ${realm.mint({ scope })}` },
      })
    ).status;
  const statuses = [await get(), await get('read:posts'), await get('other')];
  await app.close();
  await realm.close();
  process.stdout.write(`${JSON.stringify({ statuses, loaded: requested })}\n`);
}

void main();
