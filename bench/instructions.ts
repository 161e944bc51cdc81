// Instructions per request, counted by valgrind (callgrind) rather than timed. A count does not
// drift with the machine's speed: per-function counts (`--attribute`) repeat within a few percent
// from one process to the next, where 1-second req/s windows differ by tens of percent here.
//
//   npm run bench:instructions -- [--attribute] [--fresh] bare voxkey ...
//
// Each contender runs under `valgrind --tool=callgrind` with counting off; after a warm-up the
// driver turns counting on, sends a fixed number of requests (8 at a time, keep-alive, the reused
// token, or with --fresh a new token each time), turns it off and reads the totals. "mutator" leaves out the garbage collector and the
// JIT compilers, whose work arrives in chunks that a few thousand requests do not average out.
// `--attribute` also resolves JIT-compiled JavaScript to function names (node --perf-basic-prof)
// and lists where the first contender's instructions differ from the second's; the flags it needs
// change the counts, so compare attributed runs only with each other. IC_KEEP=1 keeps each
// dump (and the perf map) for callgrind_annotate; IC_WARMUP and IC_MEASURED set the counts,
// IC_ROWS how many differences are listed.
// Needs valgrind.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VoxKeyTestRealm } from '../lib/testing/index';
import { AUDIENCE, contenderEnv, readyPort, serverArgs } from './contender';

const WARMUP = Number(process.env.IC_WARMUP ?? 20_000);
const MEASURED = Number(process.env.IC_MEASURED ?? 3_000);
const CONCURRENCY = 8;
const ATTRIBUTE = process.argv.includes('--attribute');
/** `--fresh`: a new token on every request (first sights), rather than one reused token. */
const FRESH = process.argv.includes('--fresh');

/**
 * Sends `count` requests, CONCURRENCY at a time, taking tokens from `tokens` in turn from where
 * the last call stopped; anything but a 200 fails the run.
 */
async function drive(port: number, tokens: Tokens, count: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let sent = 0;
  const one = (token = tokens.list[tokens.next++ % tokens.list.length]) =>
    new Promise<void>((resolve, reject) => {
      const request = http.get(
        {
          host: '127.0.0.1',
          port,
          path: '/posts',
          agent,
          headers: { authorization: `Bearer ${token}` },
        },
        (response) => {
          if (response.statusCode !== 200) reject(new Error(`answered ${response.statusCode}`));
          response.resume();
          response.on('end', () => resolve());
        },
      );
      request.on('error', reject);
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < count) {
        sent++;
        await one();
      }
    }),
  );
  agent.destroy();
}

/**
 * Cost per function from callgrind_annotate (its own, or with what it calls: `inclusive`), JIT
 * addresses resolved through the perf map.
 */
function costsOf(
  dump: string,
  perfMap: string | undefined,
  inclusive = false,
): Map<string, number> {
  const ranges = perfMap
    ? readFileSync(perfMap, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [start, size, ...name] = line.split(' ');
          return {
            start: parseInt(start, 16),
            end: parseInt(start, 16) + parseInt(size, 16),
            name: name.join(' '),
          };
        })
    : [];
  const annotated = execFileSync(
    'callgrind_annotate',
    [`--inclusive=${inclusive ? 'yes' : 'no'}`, '--threshold=100', dump],
    {
      maxBuffer: 1 << 28,
    },
  ).toString();
  const costs = new Map<string, number>();
  for (const line of annotated.split('\n')) {
    const match = /^\s*([\d,]+) \([\s\d.]+%\)\s+(.*?)(?:\s+\[[^\]]*\])?$/.exec(line);
    if (!match || match[2].includes('PROGRAM TOTALS')) continue;
    let name = match[2];
    const address = /^\?\?\?:0x([0-9a-f]+)/.exec(name);
    if (address) {
      const at = parseInt(address[1], 16);
      // Code moves and addresses are reused: the map's last entry for an address is current.
      name = `JS ${[...ranges].reverse().find((r) => r.start <= at && at < r.end)?.name ?? '(unresolved)'}`;
    }
    costs.set(name, (costs.get(name) ?? 0) + Number(match[1].replaceAll(',', '')));
  }
  return costs;
}

const NOT_MUTATOR =
  /Scaveng|MarkCompact|heap::|Heap::|Sweeper|Marking|Evacuat|MinorMC|compiler::|maglev|Maglev|Compiler::|OptimizedCompilationJob/;

/** The tokens a run sends, and where it is up to. */
interface Tokens {
  readonly list: readonly string[];
  next: number;
}

async function count(id: string, realm: VoxKeyTestRealm, list: readonly string[]) {
  const tokens: Tokens = { list, next: 0 };
  const dir = mkdtempSync(join(tmpdir(), 'voxkey-instructions-'));
  const nodeFlags = ATTRIBUTE ? ['--perf-basic-prof', '--interpreted-frames-native-stack'] : [];
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${dir}/callgrind.out`,
      process.execPath,
      ...nodeFlags,
      ...serverArgs(id),
    ],
    // V8's log files, if any, land in the scratch directory.
    { env: contenderEnv(realm), cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  // Where node --perf-basic-prof writes its map of JIT code (valgrind keeps node's pid).
  const perfMap = `/tmp/perf-${child.pid}.map`;
  try {
    const port = await readyPort(child, id, 300_000);
    await drive(port, tokens, WARMUP);
    const control = (...args: string[]) =>
      execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' });
    control('-i', 'on');
    await drive(port, tokens, MEASURED);
    control('-i', 'off');
    control('-d');
    const dump = readdirSync(dir).find((name) => /^callgrind\.out\.\d+$/.test(name));
    if (!dump) throw new Error(`${id}: no callgrind dump`);
    const map = existsSync(perfMap) ? perfMap : undefined;
    const costs = costsOf(join(dir, dump), map);
    // With names: what the guards cost, callees included (Nest's guard loop runs both).
    if (map) {
      for (const [name, cost] of costsOf(join(dir, dump), map, true)) {
        if (/guards-consumer|\/lib\/(guards|jwt)\//.test(name) && cost / MEASURED >= 50) {
          console.log(`  ${id}: ${(cost / MEASURED).toFixed(0).padStart(7)} inclusive  ${name}`);
        }
      }
    }
    let total = 0;
    let mutator = 0;
    for (const [name, cost] of costs) {
      total += cost;
      if (!NOT_MUTATOR.test(name)) mutator += cost;
    }
    return { total: total / MEASURED, mutator: mutator / MEASURED, costs };
  } finally {
    child.kill('SIGKILL');
    if (process.env.IC_KEEP) {
      if (existsSync(perfMap)) copyFileSync(perfMap, join(dir, 'perf.map'));
      console.log(`  ${id}: dump kept in ${dir}`);
    } else rmSync(dir, { recursive: true, force: true });
    rmSync(perfMap, { force: true });
  }
}

async function main(): Promise<void> {
  const ids = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  const realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
  const mint = (i: number) =>
    realm.mint({ scope: 'openid read:posts', subject: `user-${i}`, expiresIn: 3600 });
  // Each contender is a new process, so the same list is a first sight for every one of them.
  const tokens = FRESH ? Array.from({ length: WARMUP + MEASURED }, (_v, i) => mint(i)) : [mint(0)];
  const results: { id: string; total: number; mutator: number; costs: Map<string, number> }[] = [];
  try {
    for (const id of ids) {
      const result = { id, ...(await count(id, realm, tokens)) };
      results.push(result);
      const base = results.find((r) => r.id === 'bare');
      const ratio = base ? ` (${(result.mutator / base.mutator).toFixed(3)}× bare)` : '';
      console.log(
        `${id.padEnd(18)} ${result.total.toFixed(0).padStart(8)} instructions/request, ${result.mutator.toFixed(0).padStart(8)} mutator${ratio}`,
      );
    }
  } finally {
    await realm.close();
  }
  if (ATTRIBUTE && results.length >= 2) {
    const [a, b] = results;
    const names = new Set([...a.costs.keys(), ...b.costs.keys()]);
    const rows = [...names]
      .filter((name) => !NOT_MUTATOR.test(name))
      .map((name) => ({
        name,
        delta: ((b.costs.get(name) ?? 0) - (a.costs.get(name) ?? 0)) / MEASURED,
      }))
      .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta))
      .slice(0, Number(process.env.IC_ROWS ?? 30));
    console.log(`\nlargest differences per request, ${b.id} minus ${a.id}:`);
    for (const row of rows)
      console.log(`${row.delta.toFixed(0).padStart(8)}  ${row.name.slice(0, 140)}`);
  }
}

void main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
