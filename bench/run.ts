// The benchmark driver: `npm run bench` (or `npm run bench -- --quick`).
//
// Starts a JWKS realm here, then each contender as its own server process on 127.0.0.1, checks
// it (401 without a token, 200 with one, 403 without the scope), and drives it with autocannon
// from this process, one contender at a time, in short windows interleaved across contenders so
// the machine's drift hits all alike. Reports req/s, p99 latency and the server's own CPU time
// per request, each also as a ratio to the bare NestJS route measured alongside, and writes
// bench/RESULTS.md. After each round, a child process (signature.ts) measures what one RS256
// signature check costs on the machine at that time: the fresh mode's CPU budget is set by it.
import { type ChildProcess, execFileSync, execSync, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { VoxKeyTestRealm } from '../lib/testing/index';
import { AUDIENCE, contenderEnv, readyPort, serverArgs } from './contender';
import { CONNECTIONS, type Cursor, cpuMicros, load, median, stop, writeMarkdown } from './measure';

const QUICK = process.argv.includes('--quick');
/**
 * `--only bare,voxkey` measures a subset (and skips the memory phase and the report); with it,
 * `--modes reused` (or `reused,pool`, ...) measures only those token modes.
 */
const ONLY = process.argv.includes('--only')
  ? process.argv[process.argv.indexOf('--only') + 1].split(',')
  : undefined;
/**
 * Each round starts every contender afresh; within a round, short windows interleave. Four
 * rounds, because a process has its own speed too (two no-op guards measured 1.05× the bare
 * route in one run): more processes average that out.
 */
const ROUNDS = QUICK ? 1 : 4;
/**
 * Measuring windows per contender and mode in a round, interleaved across contenders. Many
 * short windows rather than a few long ones: this machine's speed drifts by tens of percent
 * within seconds, and ratios are taken between windows that ran side by side.
 */
const SLICES = QUICK ? 2 : 6;
const WINDOW_S = 1;
const WARMUP_S = QUICK ? 1 : 2;
const POOL_SIZE = QUICK ? 1_000 : 10_000;
/** More distinct tokens than VoxKey's token cache holds by default (10,000): all first sights. */
const FRESH_SIZE = 20_000;
const MEMORY_TOKENS = QUICK ? 100_000 : 1_000_000;
/** The documented bound: after the run the heap is back within this much of where it started. */
const MEMORY_BOUND_MB = 32;
/**
 * The targets. Tokens seen before (`reused`, `pool`): VoxKey's req/s at least
 * `bare[mode]` × the bare route's and `recipeSeen` × the NestJS docs recipe's. First sights
 * (`fresh`): at least `auth0Fresh` × NestJS + express-oauth2-jwt-bearer's req/s and `recipeFresh`
 * × the recipe's, and VoxKey's CPU per request minus the bare route's at most one signature check
 * (measured in the same run) + `freshOverheadUs` µs.
 */
const TARGETS = {
  bare: { reused: 0.9, pool: 0.85 },
  recipeSeen: 2.5,
  recipeFresh: 2,
  auth0Fresh: 1.1,
  freshOverheadUs: 25,
};

/** The report's contenders, then experiments that only `--only` runs (see bench/README.md). */
const CONTENDERS = [
  { id: 'bare', name: 'NestJS, no auth (baseline)' },
  { id: 'voxkey', name: '@voxkey/nestjs (VoxKeyModule + @Scopes)' },
  { id: 'nest-docs-recipe', name: 'NestJS docs recipe (passport-jwt + jwks-rsa + AuthGuard)' },
  { id: 'nest-auth0', name: 'NestJS + express-oauth2-jwt-bearer guard' },
  { id: 'express-auth0', name: 'Express + express-oauth2-jwt-bearer' },
  // Floors: two global guards that allow everything (Nest's guard machinery), and the same with
  // one setting req.user (what any authentication guard does).
  { id: 'noop-guards', name: 'NestJS, two no-op global guards', experiment: true },
  {
    id: 'noop-user',
    name: 'NestJS, two no-op global guards, one setting req.user',
    experiment: true,
  },
  // Bisecting VoxKey's cost: the floor in a process that also runs VoxKeyModule; and
  // VoxKeyAuthGuard without ScopesGuard.
  {
    id: 'noop-user-loaded',
    name: 'noop-user, with VoxKeyModule loaded but not guarding',
    experiment: true,
  },
  { id: 'voxkey-auth-only', name: 'VoxKeyAuthGuard alone (no ScopesGuard)', experiment: true },
  { id: 'voxkey-nocache', name: 'voxkey, verified-token cache off', experiment: true },
] as const;
const isExperiment = (c: (typeof CONTENDERS)[number]) => 'experiment' in c;
type ContenderId = (typeof CONTENDERS)[number]['id'];
/**
 * `reused`: one token on every request. `pool`: 10,000 distinct tokens rotated, measured once
 * each was sent (the steady state of a server whose clients reuse their tokens). `fresh`:
 * 20,000 distinct tokens rotated, more than VoxKey's cache holds, so every VoxKey request is a
 * first sight: a signature check, like every request of the contenders without a cache.
 */
type Mode = 'reused' | 'pool' | 'fresh';
const ALL_MODES: Mode[] = ['reused', 'pool', 'fresh'];
if (process.argv.includes('--modes') && !ONLY) {
  throw new Error('--modes needs --only (the full run reports every mode)');
}
const MODES: Mode[] = process.argv.includes('--modes')
  ? ALL_MODES.filter((m) =>
      process.argv[process.argv.indexOf('--modes') + 1].split(',').includes(m),
    )
  : ALL_MODES;
if (MODES.length === 0) throw new Error('--modes names none of reused, pool, fresh');
const measures = (mode: Mode) => MODES.includes(mode);

interface Sample {
  reqPerSec: number;
  p99Ms: number;
  cpuUsPerReq: number;
}

async function startContender(
  id: ContenderId,
  realm: VoxKeyTestRealm,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, serverArgs(id), {
    env: contenderEnv(realm),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await readyPort(child, id);
  return { child, url: `http://127.0.0.1:${port}/posts` };
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
      : id.startsWith('noop-')
        ? true
        : id === 'voxkey-auth-only'
          ? got[0] === 401 && got[1] === 200
          : (got[0] === 401 || (id !== 'voxkey' && got[0] === 400)) &&
            got[1] === 200 &&
            got[2] === 403;
  if (!ok) throw new Error(`${id} is not correct: got ${got.join('/')} for none/valid/no-scope`);
}

async function measure(
  child: ChildProcess,
  url: string,
  tokens: string[],
  cursor: Cursor,
): Promise<Sample> {
  const before = cpuMicros(child.pid!);
  const result = await load(url, tokens, cursor, { duration: WINDOW_S });
  const cpu = cpuMicros(child.pid!) - before;
  return {
    reqPerSec: result.requests.average,
    p99Ms: result.latency.p99,
    cpuUsPerReq: cpu / result.requests.total,
  };
}

/** Samples per mode and contender, in window order: window i of every contender ran side by side. */
type Samples = Record<Mode, Record<string, Sample[]>>;

const TS_REGISTER = join(__dirname, '../test/support/ts-register.cjs');

/**
 * What one signature check costs on this machine now: CPU µs of one synchronous one-shot RS256
 * `crypto.verify` of `token` with the realm's public key imported once as a KeyObject, one
 * figure per bounded loop, measured by signature.ts in a process of its own while no contender
 * runs.
 */
function measureSignatureCheck(realm: VoxKeyTestRealm, token: string): number[] {
  const jwk = realm.jwks.keys.find((key) => key.kid === realm.currentKid);
  const output = execFileSync(
    process.execPath,
    ['-r', TS_REGISTER, join(__dirname, 'signature.ts')],
    {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, BENCH_SIG_TOKEN: token, BENCH_SIG_JWK: JSON.stringify(jwk) },
    },
  );
  return (JSON.parse(output.trim()) as { cpuUs: number[] }).cpuUs;
}

async function main(): Promise<void> {
  const realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
  // Only the modes measured need their tokens.
  const poolSize = measures('pool') ? POOL_SIZE : 0;
  const freshSize = measures('fresh') ? FRESH_SIZE : 0;
  console.log(`minting ${poolSize + freshSize} tokens...`);
  const mint = (prefix: string, count: number) =>
    Array.from({ length: count }, (_v, i) =>
      realm.mint({ scope: 'openid read:posts', subject: `${prefix}-${i}`, expiresIn: 3600 }),
    );
  const reused = realm.mint({ scope: 'openid read:posts', expiresIn: 3600 });
  const noScope = realm.mint({ scope: 'openid', expiresIn: 3600 });
  const tokens: Record<Mode, string[]> = {
    reused: [reused],
    pool: mint('pool', poolSize),
    fresh: mint('fresh', freshSize),
  };
  const samples: Samples = { reused: {}, pool: {}, fresh: {} };
  /** CPU µs of one signature check, every bounded measurement of the run. */
  const signatureUs: number[] = [];
  const included = CONTENDERS.filter((c) => (ONLY ? ONLY.includes(c.id) : !isExperiment(c)));
  const record = (mode: Mode, id: ContenderId, round: number, sample: Sample) => {
    (samples[mode][id] ??= []).push(sample);
    console.log(
      `round ${round + 1} ${mode.padEnd(6)} ${id.padEnd(17)} ${sample.reqPerSec.toFixed(0).padStart(6)} req/s  p99 ${sample.p99Ms} ms  ${sample.cpuUsPerReq.toFixed(0)} µs CPU/req`,
    );
  };

  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Every contender runs in its own fresh process for the round; only one is under load at
      // a time, and the windows interleave so drift of the machine hits all of them alike.
      const running: {
        id: ContenderId;
        child: ChildProcess;
        url: string;
        cursor: Record<Mode, Cursor>;
      }[] = [];
      try {
        for (const contender of included) {
          const { child, url } = await startContender(contender.id, realm);
          running.push({
            id: contender.id,
            child,
            url,
            cursor: { reused: { next: 0 }, pool: { next: 0 }, fresh: { next: 0 } },
          });
          await checkCorrectness(contender.id, url, reused, noScope);
        }
        // Warm-up: JIT, key sets, and one full pass over the pool, so `pool` measures the steady
        // state (each token was seen once) whatever the machine's speed.
        for (const c of running) {
          await load(c.url, tokens.reused, c.cursor.reused, { duration: WARMUP_S });
          if (measures('pool'))
            await load(c.url, tokens.pool, c.cursor.pool, { amount: POOL_SIZE });
        }
        for (let slice = 0; slice < SLICES; slice++) {
          const offset = slice + round * SLICES;
          const order = running.map((_c, i) => running[(i + offset) % running.length]);
          const pair: Mode[] = offset % 2 === 0 ? ['reused', 'pool'] : ['pool', 'reused'];
          const modes = pair.filter(measures);
          for (const c of order) {
            for (const mode of modes) {
              record(
                mode,
                c.id,
                round,
                await measure(c.child, c.url, tokens[mode], c.cursor[mode]),
              );
            }
          }
        }
        // Last in each process, as it churns VoxKey's cache: every request a first sight.
        if (measures('fresh')) {
          for (const c of running) {
            await load(c.url, tokens.fresh, c.cursor.fresh, { duration: WARMUP_S });
          }
          for (let slice = 0; slice < SLICES; slice++) {
            const offset = slice + round * SLICES;
            for (const c of running.map((_c, i) => running[(i + offset) % running.length])) {
              record(
                'fresh',
                c.id,
                round,
                await measure(c.child, c.url, tokens.fresh, c.cursor.fresh),
              );
            }
          }
        }
      } finally {
        for (const c of running) await stop(c.child);
      }
      // Between rounds, with every contender stopped: the fresh mode's CPU budget is one check.
      const checks = measureSignatureCheck(realm, reused);
      signatureUs.push(...checks);
      console.log(
        `round ${round + 1} signature check (RS256 crypto.verify, sync): ${checks.map((us) => us.toFixed(1)).join(' / ')} µs CPU`,
      );
    }
  } finally {
    await realm.close();
  }
  if (ONLY) {
    for (const mode of MODES) console.log(`${mode}: ${summaryLine(samples, mode)}`);
    console.log(`signature check: ${median(signatureUs).toFixed(1)} µs CPU (median)`);
    return;
  }
  console.log(`\nmemory: ${MEMORY_TOKENS} distinct tokens through the guard...`);
  const memory = JSON.parse(
    execSync(
      `"${process.execPath}" --expose-gc -r "${TS_REGISTER}" "${join(__dirname, 'memory.ts')}" ${MEMORY_TOKENS}`,
      { encoding: 'utf8', timeout: 15 * 60_000 },
    ).trim(),
  ) as MemoryResult;
  console.log(memory);
  await writeMarkdown(join(__dirname, 'RESULTS.md'), report(samples, memory, signatureUs));
  console.log(`\nwrote bench/RESULTS.md`);
}

/**
 * A contender's median figures in one mode, and its req/s ratio to another contender: the
 * median, over windows, of the ratio within the same window slot (the two ran seconds apart),
 * which cancels the machine's slow drift better than a ratio of medians.
 */
function stats(samples: Samples, mode: Mode, id: string) {
  const list = samples[mode][id] ?? [];
  return {
    reqPerSec: median(list.map((s) => s.reqPerSec)),
    p99Ms: median(list.map((s) => s.p99Ms)),
    cpuUsPerReq: median(list.map((s) => s.cpuUsPerReq)),
    ratioTo(other: string): number {
      const base = samples[mode][other] ?? [];
      return median(list.map((s, i) => s.reqPerSec / base[i].reqPerSec));
    },
    cpuRatioTo(other: string): number {
      const base = samples[mode][other] ?? [];
      return median(list.map((s, i) => s.cpuUsPerReq / base[i].cpuUsPerReq));
    },
  };
}

/** One line per mode for `--only` runs: each contender's req/s ratio to the first one named. */
function summaryLine(samples: Samples, mode: Mode): string {
  const ids = Object.keys(samples[mode]);
  return ids
    .map((id) => `${id} ${stats(samples, mode, id).ratioTo(ids[0]).toFixed(2)}×`)
    .join(', ');
}

interface MemoryResult {
  tokens: number;
  accepted: number;
  heapBeforeMb: number;
  heapPeakMb: number;
  heapAfterMb: number;
  cachedTokens: number;
}

const MODE_TITLES: Record<Mode, string> = {
  reused: 'One token reused by every request',
  pool: `A pool of ${POOL_SIZE} distinct tokens, rotated (measured after each was sent once)`,
  fresh: `${FRESH_SIZE} distinct tokens, rotated: more than VoxKey's cache holds, every request a first sight`,
};

function report(samples: Samples, memory: MemoryResult, signatureUs: number[]): string {
  const lines = [
    '# Benchmark results',
    '',
    `Run: ${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`,
    `Settings: ${ROUNDS} round(s) of fresh processes × ${SLICES} interleaved windows of ${WINDOW_S} s per contender and mode, after warm-up (${WARMUP_S} s, plus one full pass over the pool); ${CONNECTIONS} connections${QUICK ? ' (--quick)' : ''}.`,
    'Values are medians over the windows. "× bare" is the median of the ratios to the bare NestJS route measured in the same slot of the same round (seconds apart).',
    "CPU is the server process's own user + system time per request (from /proc).",
    '',
  ];
  const verdicts: string[] = [];
  const check = (ok: boolean, text: string) =>
    verdicts.push(`- ${ok ? 'met' : 'NOT met'}: ${text}`);
  for (const mode of MODES) {
    const bare = stats(samples, mode, 'bare');
    lines.push(
      `## ${MODE_TITLES[mode]}`,
      '',
      '| Contender | none / valid / no scope | req/s | × bare | p99 (ms) | CPU µs/req | CPU × bare | auth CPU µs/req |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const contender of CONTENDERS.filter((c) => !isExperiment(c))) {
      const r = stats(samples, mode, contender.id);
      lines.push(
        `| ${contender.name} | ${answers[contender.id] ?? ''} | ${r.reqPerSec.toFixed(0)} | ${r.ratioTo('bare').toFixed(2)} | ${r.p99Ms} | ${r.cpuUsPerReq.toFixed(0)} | ${r.cpuRatioTo('bare').toFixed(2)} | ${(r.cpuUsPerReq - bare.cpuUsPerReq).toFixed(0)} |`,
      );
    }
    lines.push('');
    const vox = stats(samples, mode, 'voxkey');
    const vsRecipe = vox.ratioTo('nest-docs-recipe');
    const vsAuth0 = vox.ratioTo('nest-auth0');
    if (mode === 'fresh') {
      const signature = median(signatureUs);
      const added = vox.cpuUsPerReq - bare.cpuUsPerReq;
      const budget = signature + TARGETS.freshOverheadUs;
      lines.push(
        `One signature check (one RS256 \`crypto.verify\` of this run's token with the realm's key imported once as a \`KeyObject\`, synchronous one-shot) cost ${signature.toFixed(1)} µs of CPU on this machine in this run: the median of ${signatureUs.length} bounded measurements (${Math.min(...signatureUs).toFixed(1)}–${Math.max(...signatureUs).toFixed(1)} µs), taken in a process of its own after each round, while no contender ran (\`bench/signature.ts\`).`,
        `VoxKey added ${added.toFixed(1)} µs of CPU per request to the bare route's (its median CPU µs/req minus bare's): the budget is one check + ${TARGETS.freshOverheadUs} µs = ${budget.toFixed(1)} µs.`,
        `VoxKey: ${vox.ratioTo('bare').toFixed(2)}× the bare route, ${vsRecipe.toFixed(2)}× the NestJS docs recipe, ${vsAuth0.toFixed(2)}× NestJS + express-oauth2-jwt-bearer.`,
        '',
      );
      check(
        vsAuth0 >= TARGETS.auth0Fresh,
        `fresh: VoxKey at least ${TARGETS.auth0Fresh}× NestJS + express-oauth2-jwt-bearer's req/s (${vsAuth0.toFixed(2)}×)`,
      );
      check(
        added <= budget,
        `fresh: VoxKey's CPU added per request at most one signature check + ${TARGETS.freshOverheadUs} µs (${added.toFixed(1)} µs added; one check ${signature.toFixed(1)} µs, so at most ${budget.toFixed(1)} µs)`,
      );
      check(
        vsRecipe >= TARGETS.recipeFresh,
        `fresh: at least ${TARGETS.recipeFresh}× the NestJS docs recipe (${vsRecipe.toFixed(2)}×)`,
      );
      continue;
    }
    const target = TARGETS.bare[mode];
    check(
      vox.ratioTo('bare') >= target,
      `${mode}: VoxKey at least ${target}× the bare route's req/s (${vox.ratioTo('bare').toFixed(2)}×)`,
    );
    check(
      vsRecipe >= TARGETS.recipeSeen,
      `${mode}: at least ${TARGETS.recipeSeen}× the NestJS docs recipe (${vsRecipe.toFixed(2)}×)`,
    );
    check(
      vsAuth0 > 1,
      `${mode}: ahead of NestJS + express-oauth2-jwt-bearer (${vsAuth0.toFixed(2)}×)`,
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
