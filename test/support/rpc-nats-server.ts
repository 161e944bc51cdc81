import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { freePort } from './free-port';

/** Whether nats-server is on PATH (Debian puts it in /usr/sbin, also looked at). */
const NATS_BINARY = ['nats-server', '/usr/sbin/nats-server'].find(
  (binary) => spawnSync(binary, ['--version']).status === 0,
);

/** Whether a nats-server binary was found. */
export const NATS_AVAILABLE = NATS_BINARY !== undefined;

if (!NATS_AVAILABLE) {
  const message =
    'nats-server is not on PATH: the NATS suites are SKIPPED. Install it (apt-get install -y nats-server).';
  // In CI a missing broker is a failure, never a silent skip.
  if (process.env.CI) throw new Error(message);
  console.warn(`\n${'!'.repeat(80)}\n${message}\n${'!'.repeat(80)}\n`);
}

/** `describe` when nats-server is available; a loudly announced skip otherwise (never in CI). */
export const describeWithNats: jest.Describe = NATS_AVAILABLE ? describe : describe.skip;

/** Seconds a nats-server lives at most, should a test run die before its afterAll. */
const NATS_LIFETIME_SECONDS = 600;

/**
 * A real nats-server on 127.0.0.1 on a free port, run under coreutils `timeout` so that it
 * cannot outlive a crashed test run by more than NATS_LIFETIME_SECONDS; stop it in afterAll.
 */
export class NatsServer {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  /** Starts one and resolves once it accepts connections (10 s at most). */
  static async start(): Promise<NatsServer> {
    const port = await freePort();
    const child = spawn(
      'timeout',
      [
        '--kill-after=5',
        String(NATS_LIFETIME_SECONDS),
        NATS_BINARY!,
        ...['-a', '127.0.0.1', '-p', String(port)],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => {
        child.kill('SIGTERM');
        reject(new Error(`nats-server did not start:\n${output}`));
      }, 10_000);
      const read = (chunk: Buffer) => {
        output += chunk;
        if (output.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      // nats-server logs to stderr.
      child.stdout!.on('data', read);
      child.stderr!.on('data', read);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code}):\n${output}`));
      });
    });
    child.removeAllListeners('exit');
    return new NatsServer(port, child);
  }

  /** The URL a NATS client connects to. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Stops it (`timeout` passes SIGTERM on to nats-server) and resolves once it exited. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
