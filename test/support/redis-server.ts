import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { freePort } from './free-port';

/** Whether redis-server is on PATH. */
export const REDIS_AVAILABLE = spawnSync('redis-server', ['--version']).status === 0;

if (!REDIS_AVAILABLE) {
  const message =
    'redis-server is not on PATH: the Redis suites are SKIPPED. Install it (apt-get install -y redis-server).';
  // In CI a missing Redis is a failure, never a silent skip.
  if (process.env.CI) throw new Error(message);
  console.warn(`\n${'!'.repeat(80)}\n${message}\n${'!'.repeat(80)}\n`);
}

/** `describe` when Redis is available; a loudly announced skip otherwise (never in CI). */
export const describeWithRedis: jest.Describe = REDIS_AVAILABLE ? describe : describe.skip;

/** A real redis-server on 127.0.0.1 on a free port, with nothing persisted; stop it in afterAll. */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and resolves once it accepts connections. */
  async restart(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not start:\n${output}`)),
        10_000,
      );
      child.stdout!.on('data', (chunk) => {
        output += chunk;
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${output}`));
      });
    });
    child.removeAllListeners('exit');
  }

  /** Kills it outright (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  stop(): Promise<void> {
    return this.kill();
  }
}
