// `npm run bench:verify` (about two minutes): how the library should check a JWS signature with
// a KeyObject it imported once. Compares Node's one-shot `crypto.verify`, synchronous and with a
// callback (the work then runs on libuv's thread pool), and jose 4.15 and 5.10's
// `compactVerify` (both call `crypto.verify` with a callback through `promisify`), for RS256
// (2048-bit), ES256 and EdDSA (Ed25519) tokens:
//   a. in this process: CPU time per verification (process.cpuUsage, all threads) over bounded
//      loops, the asynchronous forms with 1, 8 and 64 verifications in flight, and
//      verifications per second of wall time;
//   b. in a node:http server per method (verify-server.ts, a child process on 127.0.0.1), every
//      request a distinct token from a rotation: req/s under autocannon (32 connections, short
//      windows interleaved across methods) and the server's own CPU time per request (/proc).
// Prints markdown tables and writes them to bench/VERIFY.md.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { readyPort } from './contender';
import {
  type Algorithm,
  ALGORITHMS,
  generateKeys,
  METHOD_NAMES,
  type Method,
  METHODS,
  mintToken,
  processCpuMicros,
  signatureCheck,
  timeSync,
  type Verifier,
  verifier,
} from './jws';
import {
  type Cursor,
  cpuMicros,
  load,
  machineBusyMicros,
  median,
  stop,
  writeMarkdown,
} from './measure';

/** Distinct tokens per algorithm, rotated by both parts: no token is checked twice in a row. */
const TOKENS = 20_000;
/** Wall time of one in-process measurement, and how many of each (interleaved) give a median. */
const LOOP_MS = 300;
const REPEATS = 3;
const IN_FLIGHT = [1, 8, 64];
const WARMUP_S = 1;
const WINDOW_S = 1;
const SLICES = 5;

const ASYNC_METHODS: Method[] = ['callback', 'jose4', 'jose5'];
const SYNC_METHODS: Method[] = ['decode-only', 'sync'];

interface Rate {
  cpuUs: number;
  perSecond: number;
}

/**
 * Keeps `inFlight` verifications of distinct tokens going until `ms` of wall time have passed,
 * then waits for the last ones: CPU µs per verification and verifications per wall second.
 */
function timeAsync(
  check: Verifier,
  tokens: string[],
  cursor: Cursor,
  inFlight: number,
  ms: number,
): Promise<Rate> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(ms) * 1_000_000n;
    const cpu = processCpuMicros();
    let running = 0;
    let finished = 0;
    const next = () => {
      running++;
      check(tokens[cursor.next++ % tokens.length], (error) => {
        running--;
        if (error) return reject(error);
        finished++;
        if (process.hrtime.bigint() < deadline) return next();
        if (running === 0) {
          const wall = Number(process.hrtime.bigint() - start) / 1e9;
          resolve({ cpuUs: (processCpuMicros() - cpu) / finished, perSecond: finished / wall });
        }
      });
    };
    for (let i = 0; i < inFlight; i++) next();
  });
}

function timeSyncVerifier(check: Verifier, tokens: string[], cursor: Cursor, ms: number): Rate {
  const fail = (error: Error | null) => {
    if (error) throw error;
  };
  return timeSync(() => check(tokens[cursor.next++ % tokens.length], fail), ms);
}

interface Keyed {
  alg: Algorithm;
  keys: ReturnType<typeof generateKeys>;
  tokens: string[];
}

/** In-process rows: the signature check alone, the synchronous methods, then the others. */
type Row = { label: string; method?: Method; inFlight?: number };
const ROWS: Row[] = [
  { label: 'signature only: `crypto.verify` sync, token already split' },
  ...SYNC_METHODS.map((method) => ({ label: METHOD_NAMES[method], method })),
  ...ASYNC_METHODS.flatMap((method) =>
    IN_FLIGHT.map((inFlight) => ({ label: METHOD_NAMES[method], method, inFlight })),
  ),
];

interface InProcess {
  rates: Rate[];
  /** Cores' worth of CPU that other processes used during each loop. */
  others: number[];
}

async function inProcess(set: Keyed): Promise<InProcess> {
  const cursor: Cursor = { next: 0 };
  const measureRow = async (row: Row): Promise<Rate> => {
    if (!row.method) {
      return timeSync(signatureCheck(set.tokens[0], set.alg, set.keys.publicKey), LOOP_MS);
    }
    const check = verifier(row.method, set.alg, set.keys.publicKey);
    return row.inFlight === undefined
      ? timeSyncVerifier(check, set.tokens, cursor, LOOP_MS)
      : timeAsync(check, set.tokens, cursor, row.inFlight, LOOP_MS);
  };
  // A short pass first, so every path is compiled before anything counts.
  for (const method of METHODS) {
    const check = verifier(method, set.alg, set.keys.publicKey);
    if (SYNC_METHODS.includes(method)) timeSyncVerifier(check, set.tokens, cursor, 30);
    else await timeAsync(check, set.tokens, cursor, 8, 30);
  }
  const runs: Rate[][] = ROWS.map(() => []);
  const others: number[] = [];
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const [i, row] of ROWS.entries()) {
      const [busy, own, start] = [machineBusyMicros(), processCpuMicros(), performance.now()];
      runs[i].push(await measureRow(row));
      const used = machineBusyMicros() - busy - (processCpuMicros() - own);
      others.push(Math.max(0, used) / ((performance.now() - start) * 1e3));
    }
  }
  const rates = runs.map((list) => ({
    cpuUs: median(list.map((r) => r.cpuUs)),
    perSecond: median(list.map((r) => r.perSecond)),
  }));
  return { rates, others };
}

interface Sample {
  reqPerSec: number;
  p99Ms: number;
  cpuUsPerReq: number;
  /** Cores' worth of CPU that other processes on the machine used during the window. */
  othersCores: number;
}

interface Server {
  method: Method;
  child: ChildProcess;
  url: string;
  cursor: Cursor;
  samples: Sample[];
}

async function startServer(set: Keyed, method: Method): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['-r', join(__dirname, '../test/support/ts-register.cjs'), join(__dirname, 'verify-server.ts')],
    {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        BENCH_VERIFY_METHOD: method,
        BENCH_VERIFY_ALG: set.alg,
        BENCH_VERIFY_KEY: set.keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await readyPort(child, `verify-server ${set.alg} ${method}`);
  return { method, child, url: `http://127.0.0.1:${port}/`, cursor: { next: 0 }, samples: [] };
}

/** 200 for a valid token; 401 for a forged signature (except the floor, which checks none). */
async function checkServer(server: Server, set: Keyed): Promise<void> {
  const status = async (token: string) =>
    (await fetch(server.url, { headers: { authorization: `Bearer ${token}` } })).status;
  const token = set.tokens[0];
  const [head, body] = token.split('.');
  const forged = `${head}.${body}.${set.tokens[1].split('.')[2]}`;
  const got = [await status(token), await status(forged)];
  const expected = [200, server.method === 'decode-only' ? 200 : 401];
  if (got.join() !== expected.join()) {
    throw new Error(`${set.alg} ${server.method}: got ${got.join('/')} for valid/forged`);
  }
}

async function overHttp(set: Keyed): Promise<Server[]> {
  const servers: Server[] = [];
  try {
    for (const method of METHODS) servers.push(await startServer(set, method));
    for (const server of servers) {
      await checkServer(server, set);
      await load(server.url, set.tokens, server.cursor, { duration: WARMUP_S });
    }
    for (let slice = 0; slice < SLICES; slice++) {
      // Window i of every method runs within seconds of the others; the order rotates.
      for (const [i] of servers.entries()) {
        const server = servers[(i + slice) % servers.length];
        const before = cpuMicros(server.child.pid!);
        const busyBefore = machineBusyMicros();
        const ownBefore = processCpuMicros();
        const result = await load(server.url, set.tokens, server.cursor, { duration: WINDOW_S });
        const cpu = cpuMicros(server.child.pid!) - before;
        const others = machineBusyMicros() - busyBefore - cpu - (processCpuMicros() - ownBefore);
        server.samples.push({
          reqPerSec: result.requests.total / result.duration,
          p99Ms: result.latency.p99,
          cpuUsPerReq: cpu / result.requests.total,
          othersCores: Math.max(0, others) / (result.duration * 1e6),
        });
        console.log(
          `${set.alg.padEnd(5)} ${server.method.padEnd(11)} ${server.samples.at(-1)!.reqPerSec.toFixed(0).padStart(6)} req/s  ${server.samples.at(-1)!.cpuUsPerReq.toFixed(0)} µs CPU/req`,
        );
      }
    }
  } finally {
    for (const server of servers) await stop(server.child);
  }
  return servers;
}

function inProcessTable(results: Map<Algorithm, InProcess>): string[] {
  const lines = [
    `| Method | in flight | ${ALGORITHMS.map((alg) => `${alg} CPU µs | ${alg} per s`).join(' | ')} |`,
    `| --- | ---: | ${ALGORITHMS.map(() => '---: | ---:').join(' | ')} |`,
  ];
  for (const [i, row] of ROWS.entries()) {
    const cells = ALGORITHMS.map((alg) => {
      const rate = results.get(alg)!.rates[i];
      return `${rate.cpuUs.toFixed(1)} | ${rate.perSecond.toFixed(0)}`;
    });
    lines.push(`| ${row.label} | ${row.inFlight ?? '–'} | ${cells.join(' | ')} |`);
  }
  const others = ALGORITHMS.map((alg) => {
    const list = results.get(alg)!.others;
    return `${alg} ${median(list).toFixed(2)} (at most ${Math.max(...list).toFixed(2)})`;
  });
  lines.push(
    '',
    `Other processes on the machine used, in cores (median over the loops): ${others.join(', ')}.`,
  );
  return lines;
}

function serverTable(results: Map<Algorithm, Server[]>): string[] {
  const lines = [
    '| Algorithm | Method | req/s | × sync | server CPU µs/req | CPU over the floor | p99 (ms) | other processes (cores) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const alg of ALGORITHMS) {
    const servers = results.get(alg)!;
    const of = (method: Method) => servers.find((s) => s.method === method)!.samples;
    const floorCpu = median(of('decode-only').map((s) => s.cpuUsPerReq));
    for (const server of servers) {
      const cpu = median(server.samples.map((s) => s.cpuUsPerReq));
      const vsSync = median(server.samples.map((s, i) => s.reqPerSec / of('sync')[i].reqPerSec));
      lines.push(
        `| ${alg} | ${METHOD_NAMES[server.method]} | ${median(server.samples.map((s) => s.reqPerSec)).toFixed(0)} | ${vsSync.toFixed(2)} | ${cpu.toFixed(1)} | ${server.method === 'decode-only' ? '–' : (cpu - floorCpu).toFixed(1)} | ${median(server.samples.map((s) => s.p99Ms))} | ${median(server.samples.map((s) => s.othersCores)).toFixed(2)} |`,
      );
    }
  }
  return lines;
}

async function main(): Promise<void> {
  const started = Date.now();
  const sets: Keyed[] = ALGORITHMS.map((alg) => {
    const keys = generateKeys(alg);
    const tokens = Array.from({ length: TOKENS }, (_v, i) =>
      mintToken(alg, keys.privateKey, `${alg}-key`, `user-${i}`),
    );
    return { alg, keys, tokens };
  });
  console.log(
    `minted ${TOKENS} tokens per algorithm (RS256: ${sets[0].tokens[0].length} characters)`,
  );

  const inProcessResults = new Map<Algorithm, InProcess>();
  for (const set of sets) {
    inProcessResults.set(set.alg, await inProcess(set));
    console.log(`${set.alg}: in-process done`);
  }
  const serverResults = new Map<Algorithm, Server[]>();
  for (const set of sets) serverResults.set(set.alg, await overHttp(set));

  const pool = process.env.UV_THREADPOOL_SIZE ?? '4 (default)';
  const lines = [
    '# How a signature is checked: measurements',
    '',
    `Run: ${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'} · libuv thread pool: ${pool} · \`npm run bench:verify\` (${Math.round((Date.now() - started) / 1000)} s)`,
    '',
    `Tokens: ${TOKENS} distinct compact JWS per algorithm (header \`alg\`, \`typ\`, \`kid\`; ten claims; RS256 2048-bit, ES256 P-256, EdDSA Ed25519), rotated so that no token is checked twice in a row. Every method decodes the header and the payload and checks the signature with a \`KeyObject\` imported once; none checks the claims. jose gets the \`KeyObject\` and \`algorithms: [alg]\`, and its payload bytes are parsed with \`JSON.parse\`.`,
    '',
    '## In one process',
    '',
    `CPU µs per verification (\`process.cpuUsage\`: user + system time of every thread of the process, the thread pool and the GC included) and verifications per second of wall time; median of ${REPEATS} loops of ${LOOP_MS} ms each, interleaved across methods. "In flight": how many asynchronous verifications are kept running at once.`,
    '',
    ...inProcessTable(inProcessResults),
    '',
    '## In an HTTP server, every request a new token',
    '',
    `One plain \`node:http\` server per method (\`bench/verify-server.ts\`, its own process on 127.0.0.1); autocannon drives it from the parent with 32 connections, each request carrying the next token of the rotation; ${SLICES} windows of ${WINDOW_S} s per method after ${WARMUP_S} s of warm-up, interleaved across methods. Medians over the windows; "× sync" is the median of the per-window ratios to the synchronous \`crypto.verify\` server's window of the same slot. Server CPU is its own user + system time (every thread) from \`/proc/<pid>/stat\`, per request; "CPU over the floor" subtracts the server that decodes but checks no signature. autocannon shares the machine's ${cpus().length} cores with the server. "Other processes": the CPU the rest of the machine used during the windows (\`/proc/stat\` minus the server and this process), in cores, a sign of how disturbed a row was.`,
    '',
    ...serverTable(serverResults),
    '',
  ];
  const text = lines.join('\n');
  console.log(`\n${text}`);
  await writeMarkdown(join(__dirname, 'VERIFY.md'), text);
  console.log('wrote bench/VERIFY.md');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
