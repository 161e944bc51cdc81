// Memory check: drives N distinct valid tokens through VoxKeyAuthGuard in this process (no HTTP,
// so it takes minutes rather than hours) and reports the heap before, at its peak and after.
// Run with --expose-gc; prints one JSON line. ES256 keys keep the minting of a million tokens
// affordable; the verification path is the same as for RS256.
import 'reflect-metadata';
import { Controller, type ExecutionContext, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Scopes, VoxKeyAuthGuard, VoxKeyModule } from '../lib/index';
import { VerifiedTokenCache } from '../lib/cache/verified-token.cache';
import { VoxKeyTestRealm } from '../lib/testing/index';
import { contextFor as fakeContext } from '../test/support/execution-context';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const BATCH = 1_000;

@Controller('posts')
class PostsController {
  @Get() @Scopes('read:posts') list() {
    return [];
  }
}

const heapMb = () => process.memoryUsage().heapUsed / 1024 / 1024;
const collect = () => (globalThis as { gc?: () => void }).gc?.();

function contextFor(authorization: string): ExecutionContext {
  const request = { headers: { authorization }, rawHeaders: ['Authorization', authorization] };
  return fakeContext('http', PostsController, PostsController.prototype.list, request).context;
}

async function main(): Promise<void> {
  const realm = await VoxKeyTestRealm.start({
    algorithm: 'ES256',
    audience: 'https://bench-api.voxkey.test',
  });
  @Module({
    imports: [VoxKeyModule.forRoot(realm.moduleOptions({ algorithms: ['ES256'] }))],
    controllers: [PostsController],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.init();
  const guard = app.get(VoxKeyAuthGuard);
  const run = (token: string) => Promise.resolve(guard.canActivate(contextFor(`Bearer ${token}`)));

  await run(realm.mint({ scope: 'read:posts' })); // warm: keys fetched, code paths compiled
  collect();
  const before = heapMb();
  let peak = before;
  let accepted = 0;
  for (let done = 0; done < TOTAL; done += BATCH) {
    const tokens = Array.from({ length: BATCH }, (_v, i) =>
      realm.mint({ scope: 'read:posts', subject: `user-${done + i}` }),
    );
    const results = await Promise.all(tokens.map(run));
    accepted += results.filter(Boolean).length;
    if (done % 50_000 === 0) peak = Math.max(peak, heapMb());
  }
  peak = Math.max(peak, heapMb());
  collect();
  const after = heapMb();
  const cached = app.get(VerifiedTokenCache).size;
  await app.close();
  await realm.close();
  console.log(
    JSON.stringify({
      tokens: TOTAL,
      accepted,
      heapBeforeMb: before,
      heapPeakMb: peak,
      heapAfterMb: after,
      cachedTokens: cached,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
