// CPU per request of VoxKey's guards alone, in one process, with a fake HTTP context: a cache hit
// (one token) and a first sight (distinct tokens, more than the cache holds). For A/B runs of a
// change to the request path: `npm run bench:guard-path`. No HTTP server, so the framework's
// own costs (and Express's per-request object shapes) are left out.
import 'reflect-metadata';
import { Controller, type ExecutionContext, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Scopes, ScopesGuard, VoxKeyAuthGuard, VoxKeyModule } from '../lib/index';
import { VoxKeyTestRealm } from '../lib/testing/index';
import { contextFor as fakeContext } from '../test/support/execution-context';

@Controller('posts')
class PostsController {
  @Get() @Scopes('read:posts') list() {
    return [];
  }
}

function contextFor(authorization: string): ExecutionContext {
  const request = { headers: { authorization }, rawHeaders: ['Authorization', authorization] };
  return fakeContext('http', PostsController, PostsController.prototype.list, request).context;
}

const IN_FLIGHT = 32;
/** Where each token list is up to, so a first sight stays a first sight across calls. */
const cursors = new Map<string[], number>();

async function cpuPerRequest(
  auth: VoxKeyAuthGuard,
  scopes: ScopesGuard,
  tokens: string[],
  count: number,
): Promise<number> {
  const one = async () => {
    const cursor = (cursors.get(tokens) ?? 0) + 1;
    cursors.set(tokens, cursor);
    const context = contextFor(`Bearer ${tokens[cursor % tokens.length]}`);
    if (!(await auth.canActivate(context)) || !scopes.canActivate(context))
      throw new Error('denied');
  };
  const start = process.cpuUsage();
  for (let done = 0; done < count; done += IN_FLIGHT) {
    await Promise.all(Array.from({ length: IN_FLIGHT }, one));
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

async function main(): Promise<void> {
  const realm = await VoxKeyTestRealm.start({ audience: 'https://bench-api.voxkey.test' });
  @Module({
    // Keys loaded at init, before the tokens are minted (minting blocks this process's realm).
    imports: [VoxKeyModule.forRoot(realm.moduleOptions({ prewarm: 'block' }))],
    controllers: [PostsController],
  })
  class BenchModule {}
  const app = await NestFactory.create(BenchModule, { logger: false });
  await app.init();
  const auth = app.get(VoxKeyAuthGuard);
  const scopes = app.get(ScopesGuard);
  const mint = (i: number) =>
    realm.mint({ scope: 'openid read:posts', subject: `user-${i}`, expiresIn: 3600 });
  const one = [mint(0)];
  const fresh = Array.from({ length: 30_000 }, (_v, i) => mint(i + 1));
  await cpuPerRequest(auth, scopes, one, 20_000);
  await cpuPerRequest(auth, scopes, fresh, 12_000);
  const hits: number[] = [];
  const misses: number[] = [];
  for (let round = 0; round < 5; round++) {
    hits.push(await cpuPerRequest(auth, scopes, one, 40_000));
    misses.push(await cpuPerRequest(auth, scopes, fresh, 6_000));
  }
  console.log(
    `hit ${median(hits).toFixed(2)} µs CPU/req (${hits.map((v) => v.toFixed(1)).join(' ')}); ` +
      `first sight ${median(misses).toFixed(1)} µs CPU/req (${misses.map((v) => v.toFixed(1)).join(' ')})`,
  );
  await app.close();
  await realm.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
