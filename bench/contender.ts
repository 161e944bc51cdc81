// Shared by the benchmark's drivers: how a contender server process is started and found.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { VoxKeyTestRealm } from '../lib/testing/index';

/** The audience every contender protects. */
export const AUDIENCE = 'https://bench-api.voxkey.test';

/** Node arguments that run `bench/servers/<id>.ts` (TypeScript through swc, as jest does). */
export function serverArgs(id: string): string[] {
  return [
    '-r',
    join(__dirname, '../test/support/ts-register.cjs'),
    join(__dirname, 'servers', `${id}.ts`),
  ];
}

/** The environment a contender reads its realm settings from (`servers/common.ts`). */
export function contenderEnv(realm: VoxKeyTestRealm): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'production',
    BENCH_JWKS_URI: realm.endpoints.jwksUri,
    BENCH_ISSUER: realm.issuer,
    BENCH_AUDIENCE: AUDIENCE,
    BENCH_DOMAIN: realm.domain,
    BENCH_REALM: realm.realm,
  };
}

/** The port a contender printed once it listens; fails if it exits or takes longer than `ms`. */
export function readyPort(child: ChildProcess, id: string, ms = 30_000): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${id} did not start`)), ms);
    const exited = (code: number | null) => reject(new Error(`${id} exited with ${code}`));
    child.once('exit', exited);
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /READY (\d+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        child.removeListener('exit', exited);
        resolve(Number(match[1]));
      }
    });
  });
}
