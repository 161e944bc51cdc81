// Shared by the benchmark's drivers (run.ts, verify.ts): driving a server with autocannon while
// rotating tokens, reading a server process's own CPU time, stopping it, and writing a report.
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';

/** Connections autocannon keeps open against the server under test. */
export const CONNECTIONS = 32;

const CLK_TCK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

/** utime + stime of a process, in microseconds, from /proc (the server's own CPU time). */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1e6;
}

/**
 * CPU time the whole machine spent busy (user, nice, system, irq, softirq; every process, every
 * core), in microseconds, from /proc/stat: what others used is this minus what we used.
 */
export function machineBusyMicros(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const busy = [1, 2, 3, 6, 7].reduce((sum, i) => sum + Number(fields[i]), 0);
  return (busy / CLK_TCK) * 1e6;
}

export const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Where a rotation of tokens is: it goes on from window to window. */
export type Cursor = { next: number };

/** Drives `url` with the rotation; any non-2xx answer or error fails the run (warm-up included). */
export async function load(
  url: string,
  tokens: string[],
  cursor: Cursor,
  limit: { duration: number } | { amount: number },
): Promise<autocannon.Result> {
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        ...limit,
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => {
              const token = tokens[cursor.next++ % tokens.length];
              return {
                ...request,
                headers: { ...request.headers, authorization: `Bearer ${token}` },
              };
            },
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  }
  return result;
}

/** Kills a server process and waits until it is gone. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Writes a markdown report formatted the way `prettier --check` wants it. */
export async function writeMarkdown(path: string, text: string): Promise<void> {
  const options = await resolveConfig(path);
  writeFileSync(path, await format(text, { ...options, filepath: path }));
}
