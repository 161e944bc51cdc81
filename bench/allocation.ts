// Bytes allocated and promoted per request, from V8's own GC log: counts, not times, so they
// repeat to within a few bytes from one process to the next.
//
//   npm run bench:allocation -- bare noop-user voxkey
//
// Each contender runs with --trace-gc-nvp; after 30,000 warm-up requests (32 connections, the
// reused token), the driver sends 100,000 more and sums what each GC reports as `allocated`
// (young-generation bytes since the previous GC) and `promoted` (bytes that survived into the
// old generation), then divides by the number of requests.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { VoxKeyTestRealm } from '../lib/testing/index';
import { AUDIENCE, contenderEnv, readyPort, serverArgs } from './contender';

const WARMUP = 30_000;
const MEASURED = 100_000;

async function measure(id: string, realm: VoxKeyTestRealm, token: string) {
  const child = spawn(process.execPath, ['--trace-gc-nvp', ...serverArgs(id)], {
    env: contenderEnv(realm),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await readyPort(child, id);
    let log = '';
    let recording = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (recording) log += chunk.toString();
    });
    const load = async (amount: number) => {
      const result = await autocannon({
        url: `http://127.0.0.1:${port}/posts`,
        connections: 32,
        amount,
        headers: { authorization: `Bearer ${token}` },
      });
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${id}: failed requests`);
    };
    await load(WARMUP);
    recording = true;
    await load(MEASURED);
    recording = false;
    const sum = (field: string) =>
      [...log.matchAll(new RegExp(`\\b${field}=(\\d+)`, 'g'))].reduce(
        (a, m) => a + Number(m[1]),
        0,
      );
    return {
      allocated: sum('allocated') / MEASURED,
      promoted: sum('promoted') / MEASURED,
      collections: [...log.matchAll(/\bgc=\w+/g)].length,
    };
  } finally {
    child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const ids = process.argv.slice(2);
  const realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
  const token = realm.mint({ scope: 'openid read:posts', expiresIn: 3600 });
  try {
    for (const id of ids) {
      const { allocated, promoted, collections } = await measure(id, realm, token);
      console.log(
        `${id.padEnd(18)} ${allocated.toFixed(0).padStart(7)} B allocated/request, ${promoted.toFixed(0).padStart(6)} B promoted/request (${collections} GCs per ${MEASURED} requests)`,
      );
    }
  } finally {
    await realm.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
