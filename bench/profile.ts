// Profiles one contender under load: `npm run bench:profile -- voxkey` writes a V8 CPU profile of
// the server process and prints the functions that used the most CPU (self time).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VoxKeyTestRealm } from '../lib/testing/index';
import { AUDIENCE, contenderEnv, readyPort, serverArgs } from './contender';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

async function main(): Promise<void> {
  const id = process.argv[2] ?? 'voxkey';
  // `pool`: rotate 20,000 distinct tokens, more than the token cache holds, so most are new.
  const pool = process.argv[3] === 'pool';
  const realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
  const tokens = Array.from({ length: pool ? 20_000 : 1 }, (_v, i) =>
    realm.mint({ scope: 'openid read:posts', subject: `user-${i}`, expiresIn: 3600 }),
  );
  let next = 0;
  const dir = mkdtempSync(join(tmpdir(), 'voxkey-profile-'));
  const child = spawn(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...serverArgs(id)],
    { env: contenderEnv(realm), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await readyPort(child, id);
  const load = await autocannon({
    url: `http://127.0.0.1:${port}/posts`,
    connections: 32,
    duration: 5,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => ({
          ...req,
          headers: { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
        }),
      },
    ],
  });
  console.log(`${id}: ${load.requests.average.toFixed(0)} req/s under the profiler`);
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  await realm.close();
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))!;
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  profile.samples.forEach((nodeId, i) => {
    const frame = byId.get(nodeId)!.callFrame;
    const where = frame.url
      .replace(/^.*node_modules\//, '')
      .replace(/^file:\/\/.*\/(lib|bench)\//, '$1/');
    const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`${id}: top self time (profile in ${dir})`);
  for (const [key, micros] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(
      `${((micros / total) * 100).toFixed(1).padStart(5)}% ${(micros / load.requests.total).toFixed(1).padStart(6)} µs/req  ${key}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
