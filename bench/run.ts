// The benchmark driver: `npm run bench` (or `npm run bench -- --quick`).
//
// Starts a JWKS realm here, then each contender as its own server process on 127.0.0.1, checks
// it (401 without a token, 200 with one, 403 without the scope), and drives it with autocannon
// from this process, one contender at a time, interleaved over several rounds so machine drift
// hits all alike. Reports req/s, p99 latency and the server's own CPU time per request, each
// also as a ratio to the bare NestJS route of the same run, and writes bench/RESULTS.md.
import autocannon from 'autocannon';
import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { VoxKeyTestRealm } from '../lib/testing/index';

const QUICK = process.argv.includes('--quick');
/** `--only bare,voxkey` measures a subset (and skips the memory phase and the report). */
const ONLY = process.argv.includes('--only')
  ? process.argv[process.argv.indexOf('--only') + 1].split(',')
  : undefined;
const ROUNDS = QUICK ? 1 : 3;
const DURATION_S = QUICK ? 2 : 6;
const WARMUP_S = QUICK ? 1 : 2;
const CONNECTIONS = 32;
const POOL_SIZE = QUICK ? 1_000 : 10_000;
const MEMORY_TOKENS = QUICK ? 100_000 : 1_000_000;
/** The documented bound: after the run the heap is back within this much of where it started. */
const MEMORY_BOUND_MB = 32;
const AUDIENCE = 'https://bench-api.voxkey.test';
const CLK_TCK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

const CONTENDERS = [
  { id: 'bare', name: 'NestJS, no auth (baseline)' },
  { id: 'voxkey', name: '@voxkey/nestjs (VoxKeyModule + @Scopes)' },
  { id: 'nest-docs-recipe', name: 'NestJS docs recipe (passport-jwt + jwks-rsa + AuthGuard)' },
  { id: 'nest-auth0', name: 'NestJS + express-oauth2-jwt-bearer guard' },
  { id: 'express-auth0', name: 'Express + express-oauth2-jwt-bearer' },
  // Not part of the report: two global guards that allow everything, the floor of Nest's guards.
  { id: 'noop-guards', name: 'NestJS, two no-op global guards' },
] as const;
type ContenderId = (typeof CONTENDERS)[number]['id'];
type Mode = 'reused' | 'pool';

interface Sample {
  reqPerSec: number;
  p99Ms: number;
  cpuUsPerReq: number;
}

/** utime + stime of a process, in microseconds, from /proc (the server's own CPU time). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1e6;
}

async function startContender(
  id: ContenderId,
  realm: VoxKeyTestRealm,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      join(__dirname, '../test/support/ts-register.cjs'),
      join(__dirname, 'servers', `${id}.ts`),
    ],
    {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        BENCH_JWKS_URI: realm.endpoints.jwksUri,
        BENCH_ISSUER: realm.issuer,
        BENCH_AUDIENCE: AUDIENCE,
        BENCH_DOMAIN: realm.domain,
        BENCH_REALM: realm.realm,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${id} did not start`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /READY (\d+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`${id} exited with ${code}`)));
  });
  child.removeAllListeners('exit');
  return { child, url: `http://127.0.0.1:${port}/posts` };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** What each contender answered to none / a valid token / a token without the scope. */
const answers: Partial<Record<ContenderId, string>> = {};

/**
 * Each contender must answer like an authentication layer before it is measured: 4xx without a
 * token (401 expected; express-oauth2-jwt-bearer 1.7 answers 400, recorded in the results), 200
 * with a valid token, 403 without the scope.
 */
async function checkCorrectness(
  id: ContenderId,
  url: string,
  token: string,
  noScope: string,
): Promise<void> {
  const status = async (authorization?: string) =>
    (await fetch(url, { headers: authorization ? { authorization } : {} })).status;
  const got = [await status(), await status(`Bearer ${token}`), await status(`Bearer ${noScope}`)];
  answers[id] = got.join(' / ');
  const ok =
    id === 'bare'
      ? got.every((s) => s === 200)
      : id === 'noop-guards'
        ? true
        : (got[0] === 401 || (id !== 'voxkey' && got[0] === 400)) &&
          got[1] === 200 &&
          got[2] === 403;
  if (!ok) throw new Error(`${id} is not correct: got ${got.join('/')} for none/valid/no-scope`);
}

function load(url: string, tokens: string[], seconds: number): Promise<autocannon.Result> {
  let next = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration: seconds,
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => {
              const token = tokens[next++ % tokens.length];
              return {
                ...request,
                headers: { ...request.headers, authorization: `Bearer ${token}` },
              };
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

async function measure(child: ChildProcess, url: string, tokens: string[]): Promise<Sample> {
  await load(url, tokens, WARMUP_S);
  const before = cpuMicros(child.pid!);
  const result = await load(url, tokens, DURATION_S);
  const cpu = cpuMicros(child.pid!) - before;
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(
      `${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`,
    );
  }
  return {
    reqPerSec: result.requests.average,
    p99Ms: result.latency.p99,
    cpuUsPerReq: cpu / result.requests.total,
  };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
  console.log(`minting ${POOL_SIZE} tokens...`);
  const reused = realm.mint({ scope: 'openid read:posts', expiresIn: 3600 });
  const noScope = realm.mint({ scope: 'openid', expiresIn: 3600 });
  const pool = Array.from({ length: POOL_SIZE }, (_v, i) =>
    realm.mint({ scope: 'openid read:posts', subject: `user-${i}`, expiresIn: 3600 }),
  );
  const tokens: Record<Mode, string[]> = { reused: [reused], pool };
  const samples: Record<Mode, Record<string, Sample[]>> = { reused: {}, pool: {} };

  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so no contender always runs first or last.
      const included = CONTENDERS.filter((c) =>
        ONLY ? ONLY.includes(c.id) : c.id !== 'noop-guards',
      );
      const order = included.map((_c, i) => included[(i + round) % included.length]);
      // Alternate which token mode runs first, so neither always meets a freshly started process.
      const modes: Mode[] = round % 2 === 0 ? ['reused', 'pool'] : ['pool', 'reused'];
      for (const contender of order) {
        const { child, url } = await startContender(contender.id, realm);
        try {
          await checkCorrectness(contender.id, url, reused, noScope);
          for (const mode of modes) {
            const sample = await measure(child, url, tokens[mode]);
            (samples[mode][contender.id] ??= []).push(sample);
            console.log(
              `round ${round + 1} ${mode.padEnd(6)} ${contender.id.padEnd(17)} ${sample.reqPerSec.toFixed(0).padStart(6)} req/s  p99 ${sample.p99Ms} ms  ${sample.cpuUsPerReq.toFixed(0)} µs CPU/req`,
            );
          }
        } finally {
          await stop(child);
        }
      }
    }
  } finally {
    await realm.close();
  }
  if (ONLY) return;
  console.log(`\nmemory: ${MEMORY_TOKENS} distinct tokens through the guard...`);
  const memory = JSON.parse(
    execSync(
      `"${process.execPath}" --expose-gc -r "${join(__dirname, '../test/support/ts-register.cjs')}" "${join(__dirname, 'memory.ts')}" ${MEMORY_TOKENS}`,
      { encoding: 'utf8', timeout: 15 * 60_000 },
    ).trim(),
  ) as MemoryResult;
  console.log(memory);
  writeFileSync(join(__dirname, 'RESULTS.md'), report(samples, memory));
  console.log(`\nwrote bench/RESULTS.md`);
}

interface MemoryResult {
  tokens: number;
  accepted: number;
  heapBeforeMb: number;
  heapPeakMb: number;
  heapAfterMb: number;
  cachedTokens: number;
}

function report(samples: Record<Mode, Record<string, Sample[]>>, memory: MemoryResult): string {
  const lines = [
    '# Benchmark results',
    '',
    `Run: ${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`,
    `Settings: ${ROUNDS} round(s), ${DURATION_S} s per measurement after ${WARMUP_S} s of warm-up, ${CONNECTIONS} connections, pool of ${POOL_SIZE} tokens${QUICK ? ' (--quick)' : ''}.`,
    'Values are medians over the rounds; ratios compare with the bare NestJS route of the same run.',
    "CPU is the server process's own user + system time per request (from /proc).",
    '',
  ];
  const verdicts: string[] = [];
  for (const mode of ['reused', 'pool'] as Mode[]) {
    const m = (id: string) => {
      const list = samples[mode][id] ?? [];
      return {
        reqPerSec: median(list.map((s) => s.reqPerSec)),
        p99Ms: median(list.map((s) => s.p99Ms)),
        cpuUsPerReq: median(list.map((s) => s.cpuUsPerReq)),
      };
    };
    const bare = m('bare');
    lines.push(
      `## ${mode === 'reused' ? 'One token reused by every request' : `A pool of ${POOL_SIZE} distinct tokens, rotated`}`,
      '',
      '| Contender | none / valid / no scope | req/s | × bare | p99 (ms) | CPU µs/req | CPU × bare | auth CPU µs/req |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const contender of CONTENDERS.filter((c) => c.id !== 'noop-guards')) {
      const r = m(contender.id);
      lines.push(
        `| ${contender.name} | ${answers[contender.id] ?? ''} | ${r.reqPerSec.toFixed(0)} | ${(r.reqPerSec / bare.reqPerSec).toFixed(2)} | ${r.p99Ms} | ${r.cpuUsPerReq.toFixed(0)} | ${(r.cpuUsPerReq / bare.cpuUsPerReq).toFixed(2)} | ${(r.cpuUsPerReq - bare.cpuUsPerReq).toFixed(0)} |`,
      );
    }
    lines.push('');
    const vox = m('voxkey');
    const target = mode === 'reused' ? 0.9 : 0.8;
    const check = (ok: boolean, text: string) =>
      verdicts.push(`- ${ok ? 'met' : 'NOT met'}: ${text}`);
    check(
      vox.reqPerSec / bare.reqPerSec >= target,
      `${mode}: VoxKey at least ${target}× the bare route's req/s (${(vox.reqPerSec / bare.reqPerSec).toFixed(2)}×)`,
    );
    const recipe = m('nest-docs-recipe');
    check(
      vox.reqPerSec / recipe.reqPerSec >= 2.5,
      `${mode}: at least 2.5× the NestJS docs recipe (${(vox.reqPerSec / recipe.reqPerSec).toFixed(2)}×)`,
    );
    const nestAuth0 = m('nest-auth0');
    check(
      vox.reqPerSec > nestAuth0.reqPerSec,
      `${mode}: ahead of NestJS + express-oauth2-jwt-bearer (${(vox.reqPerSec / nestAuth0.reqPerSec).toFixed(2)}×)`,
    );
  }
  const grown = memory.heapAfterMb - memory.heapBeforeMb;
  verdicts.push(
    `- ${memory.accepted === memory.tokens && grown <= MEMORY_BOUND_MB ? 'met' : 'NOT met'}: memory: after ${memory.tokens} distinct valid tokens the heap is within ${MEMORY_BOUND_MB} MB of where it started (+${grown.toFixed(1)} MB)`,
  );
  lines.push(
    '## Memory',
    '',
    `${memory.tokens} distinct valid tokens (ES256) through VoxKeyAuthGuard in one process, ${memory.accepted} accepted.`,
    `Heap before ${memory.heapBeforeMb.toFixed(1)} MB, peak ${memory.heapPeakMb.toFixed(1)} MB, after (GC) ${memory.heapAfterMb.toFixed(1)} MB; the verified-token cache holds ${memory.cachedTokens} tokens (its bound, \`tokenCache.maxEntries\`).`,
    '',
  );
  lines.push('## Targets', '', ...verdicts, '');
  return lines.join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
