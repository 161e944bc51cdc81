#!/usr/bin/env node
// Consumer compatibility check (`npm run test:consumers`).
//
// Packs the library with `npm pack` (prepack builds dist/), checks that the tarball holds only
// what users need, then installs it into throwaway apps set up in a temporary folder: NestJS 11
// CommonJS, NestJS 12 CommonJS, NestJS 12 ESM (all three REST-only: none installs an optional
// transport peer) and NestJS 11 CommonJS with gateways and a GraphQL resolver. Each app takes its
// package.json and tsconfig files from test/consumers/<name>/ and its sources from
// test/consumers/template/src/, shared by all; an ES module app (`"type": "module"`) gets `.js`
// added to relative imports.
// Extra sources: an app whose package.json has `"voxkeyConsumer": { "sources": ["<x>"] }` also
// gets the files of test/consumers/template/<x>/ in its src/ (a name clashing with a shared
// source or another extra one is an error); each such folder must hold `check-<x>.ts`, run after
// check.js in the order listed.
// Each app is checked twice: compiled with tsc and run with node (`npm run build`, then
// `node dist/check.js` and `node dist/check-<x>.js` for each extra source), and by its own jest
// test (`npm test`, which type-checks first). Both expect GET /posts to answer 401 without a
// token, 200 with a `read:posts` token (body { for: 'test-user', posts: [] }) and 403 with a
// token lacking that scope; the node run sends the `read:posts` token twice (a cache miss, then a
// hit) and fails if node has not exited 5 s after the app and the test realm are closed (an open
// handle). nest11-gateway's extra checks are node only (its jest test is the shared REST spec):
// - check-gateway.js: the start-up audit warns about its unguarded socket.io gateway, and its
//   guarded socket.io message is refused without a token (exception event, 401 'No token', no
//   ack), answered with a `read:posts` token (ack) and refused with a token lacking the scope (403);
// - check-graphql.js (Apollo, @nestjs/graphql 13): the `posts` query over HTTP POST answers 200
//   with UNAUTHENTICATED (statusCode 401) and a `WWW-Authenticate: Bearer` header without a
//   token, the data with a `read:posts` token, FORBIDDEN (403) with another scope; a graphql-ws
//   subscription (VoxKeyGraphQL.graphqlWsOnConnect) is closed with 4403 without a token, gets its
//   event with a `read:posts` token and FORBIDDEN with another scope;
// - check-ws.js (@nestjs/platform-ws through VoxKeyWsAdapter): an upgrade without a token is
//   answered 401; the guarded `ws` message gets exactly one `exception` frame for a token lacking
//   the scope (403) and, with `authenticateUpgrade: false`, for no token and an expired one (401),
//   and exactly one answer frame with a `read:posts` token (NestJS 11 sends nothing itself on a
//   `ws` socket: the library sends the refusal frame);
// - check-health.js (@nestjs/terminus 11): the README's readiness controller answers 503 with the
//   realm down while its key set is cold (`prewarm: 'off'`), 200 once a request loaded it, and
//   the probes (20 cold, 20 warm) make no JWKS request; with the default pre-warm a second app is
//   ready without any request, after one JWKS request, and its first request fetches nothing.
//
// Usage: node scripts/test-consumers.mjs [--json <file>] [--only <name>[,<name>...]]
//   --json  also write { passed, failed, results: [{ name, ok, detail }] } to <file>
//   --only  check only these consumers (the tarball is always checked)
//
// Prints one line per check (`PASS nest12-esm node`, `FAIL nest11-cjs jest: <reason>`), keeps
// going after a failure, always removes the temporary folder, and exits 1 if anything failed.
// Every child process runs in its own process group and is killed when its time is up.
// Network: the npm registry for the installs; the apps listen on 127.0.0.1 only.
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Each consumer's own folder holds its package.json and tsconfig files; the sources are shared.
const TEMPLATES = join(ROOT, 'test', 'consumers');
const SHARED_SOURCES = join(TEMPLATES, 'template', 'src');
const CONSUMERS = ['nest11-cjs', 'nest12-cjs', 'nest12-esm', 'nest11-gateway'];

const MINUTE = 60_000;
const TIMEOUTS = {
  pack: 5 * MINUTE,
  install: 5 * MINUTE,
  build: 2 * MINUTE,
  run: MINUTE,
  test: 2 * MINUTE,
};

// What the tarball may hold, and what it must hold.
const ALLOWED_FILE = (path) =>
  ['package.json', 'README.md', 'LICENSE'].includes(path) || path.startsWith('dist/');
const REQUIRED_FILES = [
  'package.json',
  'README.md',
  'LICENSE',
  'dist/cjs/package.json',
  'dist/cjs/index.js',
  'dist/cjs/index.d.ts',
  'dist/cjs/testing/index.js',
  'dist/cjs/testing/index.d.ts',
  'dist/cjs/ws/index.js',
  'dist/cjs/ws/index.d.ts',
  'dist/esm/package.json',
  'dist/esm/index.js',
  'dist/esm/index.d.ts',
  'dist/esm/testing/index.js',
  'dist/esm/testing/index.d.ts',
  'dist/esm/ws/index.js',
  'dist/esm/ws/index.d.ts',
];

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function parseArgs(argv) {
  const options = { json: undefined, only: CONSUMERS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--json') options.json = resolve(value());
    else if (arg === '--only') {
      options.only = value().split(',').filter(Boolean);
      const unknown = options.only.filter((name) => !CONSUMERS.includes(name));
      if (unknown.length) throw new Error(`unknown consumer(s): ${unknown.join(', ')}`);
    } else if (arg === '--help' || arg === '-h') {
      console.log('Usage: node scripts/test-consumers.mjs [--json <file>] [--only <name>,...]');
      process.exit(0);
    } else throw new Error(`unknown argument: ${arg}`);
  }
  return options;
}

// The environment of every child: ours, without what `npm run` adds about this package, so the
// nested npm commands see the consumer app and not @voxkey/nestjs.
function childEnv() {
  const env = { ...process.env, NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false' };
  for (const key of Object.keys(env)) {
    if (/^npm_(package_|lifecycle_|config_local_prefix$)/i.test(key)) delete env[key];
    if (key === 'INIT_CWD') delete env[key];
  }
  return env;
}

const running = new Set();
const MAX_OUTPUT = 2 * 1024 * 1024;

/** Runs a command in its own process group; kills the group after `timeout` ms. */
function run(command, args, { cwd, timeout }) {
  return new Promise((resolvePromise) => {
    const started = Date.now();
    const child = spawn(command, args, {
      cwd,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(child);
    let stdout = '';
    let output = '';
    let timedOut = false;
    const collect = (isStdout) => (chunk) => {
      const text = chunk.toString();
      if (isStdout && stdout.length < MAX_OUTPUT) stdout += text;
      output += text;
      if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT / 2);
    };
    child.stdout.on('data', collect(true));
    child.stderr.on('data', collect(false));
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeout);
    let spawnError;
    child.on('error', (error) => {
      spawnError = error;
    });
    // Whatever the command left behind in its group (jest workers, a stuck server) goes too.
    child.on('exit', killGroup);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (spawnError) output += `\n${spawnError.message}`;
      resolvePromise({
        ok: !spawnError && !timedOut && code === 0,
        code,
        signal,
        timedOut,
        stdout,
        output,
        ms: Date.now() - started,
        what: `${basename(command)} ${args.join(' ')}`,
      });
    });
  });
}

/** One short line saying why a command failed, picked from its output. */
function reason(result) {
  if (result.timedOut) return `${result.what}: timed out after ${Math.round(result.ms / 1000)} s`;
  const lines = result.output
    .split('\n')
    .map((line) => line.replace(/\x1b\[[0-9;]*m/g, '').trim()) // eslint-disable-line no-control-regex
    .filter(Boolean);
  const first = (pattern) => lines.findIndex((line) => pattern.test(line));
  let picked;
  const jestFailure = first(/^● (?!Console)/);
  if (jestFailure >= 0) {
    picked = `${lines[jestFailure]}: ${lines[jestFailure + 1] ?? ''}`;
  } else {
    const patterns = [
      /error TS\d+:/,
      /^npm (ERR!|error) code /,
      /^npm (ERR!|error) /,
      /: expected .+, got /, // a check script's `<case>: expected <what>, got <what>`
      /\b(\w*Error|Cannot find module)\b/,
      /still running/,
    ];
    for (const pattern of patterns) {
      const index = first(pattern);
      if (index >= 0) {
        picked = lines[index];
        if (/^npm (ERR!|error) code /.test(picked) && lines[index + 1]) {
          picked += ` ${lines[index + 1]}`;
        }
        break;
      }
    }
  }
  picked ??= lines.at(-1) ?? 'no output';
  const status = result.signal ? `signal ${result.signal}` : `exit ${result.code}`;
  const text = `${result.what} (${status}): ${picked}`;
  return text.length > 240 ? `${text.slice(0, 237)}...` : text;
}

function tail(output, count = 40) {
  const lines = output.trimEnd().split('\n');
  return lines
    .slice(-count)
    .map((line) => `    | ${line}`)
    .join('\n');
}

const results = [];

function record(name, ok, detail, output) {
  results.push({ name, ok, detail });
  console.log(ok ? `PASS ${name} (${detail})` : `FAIL ${name}: ${detail}`);
  if (!ok && output) console.error(tail(output));
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Packs the library into `dir`; returns the tarball path, or undefined if that failed. */
async function packAndCheck(dir) {
  const result = await run(NPM, ['pack', '--json', '--pack-destination', dir], {
    cwd: ROOT,
    timeout: TIMEOUTS.pack,
  });
  if (!result.ok) {
    record('tarball', false, reason(result), result.output);
    return undefined;
  }
  let manifest;
  try {
    const start = result.stdout.search(/^\[/m);
    manifest = JSON.parse(result.stdout.slice(Math.max(start, 0)))[0];
  } catch (error) {
    record('tarball', false, `cannot read npm pack --json output: ${error.message}`, result.output);
    return undefined;
  }
  const tarball = join(dir, manifest.filename);
  const paths = manifest.files.map((file) => file.path);
  const unexpected = paths.filter((path) => !ALLOWED_FILE(path));
  const missing = REQUIRED_FILES.filter((path) => !paths.includes(path));
  const problems = [];
  if (unexpected.length) problems.push(`unexpected files: ${unexpected.join(', ')}`);
  if (missing.length) problems.push(`missing files: ${missing.join(', ')}`);
  if (!existsSync(tarball)) problems.push(`no tarball at ${tarball}`);
  if (problems.length) {
    record('tarball', false, problems.join('; '));
    // A tarball with extra files can still be installed: go on with the consumers.
    return existsSync(tarball) ? tarball : undefined;
  }
  record(
    'tarball',
    true,
    `${manifest.filename}, ${paths.length} files, ${Math.round(manifest.size / 1024)} kB`,
  );
  return tarball;
}

// A relative specifier in an import or export: `from './x'`, `import './x'`, `import('./x')`.
const RELATIVE_SPECIFIER = /(\b(?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*)\2/g;

/**
 * The shared sources import siblings the CommonJS way, without an extension (`./app.module`), as
 * a Nest starter app does. Node's ES module loader needs the file's full name, and so does tsc
 * with `module: nodenext` in a `"type": "module"` package (TS2307 without it), so for such an app
 * every relative specifier gets `.js`; one left out fails the app's build and its `npm test`.
 * (The sources cannot carry `.js` for all three: tsc would take it under CommonJS too, but jest
 * in the CommonJS apps would not find `./x.js` next to x.ts without a moduleNameMapper.)
 */
function withJsSuffixes(source) {
  return source.replace(RELATIVE_SPECIFIER, (match, head, quote, specifier) =>
    /\.(?:[cm]?js|json)$/.test(specifier) ? match : `${head}${quote}${specifier}.js${quote}`,
  );
}

/**
 * The extra source folders an app asks for in its package.json (`"voxkeyConsumer": { "sources":
 * ["gateway"] }`), each test/consumers/template/<name>/ holding `check-<name>.ts`.
 */
function extraSources(app) {
  const { voxkeyConsumer } = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  const sources = voxkeyConsumer?.sources ?? [];
  if (!Array.isArray(sources) || sources.some((name) => !/^[a-z0-9-]+$/.test(name))) {
    throw new Error(`${basename(app)}: voxkeyConsumer.sources must be a list of folder names`);
  }
  for (const name of sources) {
    const check = join(TEMPLATES, 'template', name, `check-${name}.ts`);
    if (!existsSync(check)) throw new Error(`${basename(app)}: no ${relative(ROOT, check)}`);
  }
  return sources;
}

/**
 * Writes the shared sources and the app's extra ones into `app/src`, with `.js` suffixes if the
 * app is an ES module.
 */
function copySources(app) {
  const { type } = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  const esm = type === 'module';
  const folders = [
    SHARED_SOURCES,
    ...extraSources(app).map((name) => join(TEMPLATES, 'template', name)),
  ];
  const written = new Set();
  for (const folder of folders) {
    for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const from = join(entry.parentPath, entry.name);
      const to = join(app, 'src', relative(folder, from));
      if (written.has(to)) {
        throw new Error(`${relative(ROOT, from)}: src/${relative(folder, from)} is already taken`);
      }
      written.add(to);
      mkdirSync(dirname(to), { recursive: true });
      const text = readFileSync(from, 'utf8');
      writeFileSync(to, esm && /\.[cm]?ts$/.test(entry.name) ? withJsSuffixes(text) : text);
    }
  }
}

/** Sets up an app (its own files, the shared sources) and installs its pins plus the tarball. */
async function install(name, dir, tarball) {
  const own = join(TEMPLATES, name);
  if (existsSync(join(own, 'src'))) {
    throw new Error(
      `${relative(ROOT, own)}/src: the sources live in ${relative(ROOT, SHARED_SOURCES)}`,
    );
  }
  const app = join(dir, name);
  cpSync(own, app, {
    recursive: true,
    filter: (source) => !/(^|[\\/])(node_modules|dist|package-lock\.json)$/.test(source),
  });
  copySources(app);
  const result = await run(
    NPM,
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-exact', tarball],
    { cwd: app, timeout: TIMEOUTS.install },
  );
  return { app, result };
}

/** (a) compile with tsc and run the app's check scripts with node: check.js, then check-<x>.js. */
async function nodeCheck(app) {
  const build = await run(NPM, ['run', 'build'], { cwd: app, timeout: TIMEOUTS.build });
  if (!build.ok) return build;
  let ms = build.ms;
  const scripts = ['check', ...extraSources(app).map((name) => `check-${name}`)];
  let check;
  for (const script of scripts) {
    check = await run(process.execPath, [`dist/${script}.js`], { cwd: app, timeout: TIMEOUTS.run });
    ms += check.ms;
    if (!check.ok) break;
  }
  return { ...check, ms };
}

/** (b) the app's own jest test (`npm test`). */
function jestCheck(app) {
  return run(NPM, ['test'], { cwd: app, timeout: TIMEOUTS.test });
}

async function main() {
  const started = Date.now();
  const options = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'voxkey-consumers-'));
  const cleanUp = () => rmSync(dir, { recursive: true, force: true });
  const onSignal = (signal) => {
    for (const child of running) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    cleanUp();
    console.error(`interrupted by ${signal}`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    console.log(`consumers: packing ${relative(process.cwd(), ROOT) || '.'} into ${dir}`);
    const tarball = await packAndCheck(dir);
    if (!tarball) {
      for (const name of options.only) {
        record(`${name} node`, false, 'no tarball to install');
        record(`${name} jest`, false, 'no tarball to install');
      }
    } else {
      // Installs are mostly waiting on the registry: run them side by side. The checks use the
      // CPU and start servers: one at a time.
      const installs = await Promise.all(
        options.only.map((name) => install(name, dir, tarball).then((done) => [name, done])),
      );
      for (const [name, { app, result }] of installs) {
        if (!result.ok) {
          const detail = `install failed: ${reason(result)}`;
          record(`${name} node`, false, detail, result.output);
          record(`${name} jest`, false, detail);
          continue;
        }
        for (const [kind, check] of [
          ['node', nodeCheck],
          ['jest', jestCheck],
        ]) {
          const outcome = await check(app);
          record(
            `${name} ${kind}`,
            outcome.ok,
            outcome.ok ? seconds(outcome.ms) : reason(outcome),
            outcome.output,
          );
        }
      }
    }
  } catch (error) {
    record('consumers', false, `harness error: ${error.stack ?? error}`);
  } finally {
    // Give killed process groups a moment to release their files before removing the folder.
    if (running.size) await delay(500);
    cleanUp();
  }

  const passed = results.filter((result) => result.ok).length;
  const failed = results.length - passed;
  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify({ passed, failed, results }, null, 2)}\n`);
  }
  const failedNames = results.filter((result) => !result.ok).map((result) => result.name);
  console.log(`consumers: finished in ${seconds(Date.now() - started)}`);
  if (failed) console.log(`consumers: failed: ${failedNames.join(', ')}`);
  console.log(`consumers: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

await main();
