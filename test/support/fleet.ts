import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

/** Longest a worker may take to start its app. */
const START_TIMEOUT_MS = 30_000;

/**
 * One instance of an API in a fleet: a fleet-worker.ts child process (its own Nest app, on the
 * shared Redis), the port it listens on, and its messages (`tokens`, `revoke`, `logs`, `exit`).
 * One VoxKeyModule app per process, as in production: Passport's strategies are process-wide.
 */
export class FleetWorker {
  private seq = 0;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** Forks a worker with these module options (as JSON) on `redisUrl`; resolves once it listens. */
  static async start(redisUrl: string, options: object): Promise<FleetWorker> {
    const child = fork(join(__dirname, 'fleet-worker.ts'), [], {
      execArgv: ['-r', join(__dirname, 'ts-register.cjs')],
      env: { ...process.env, REDIS_URL: redisUrl, VOXKEY_OPTIONS: JSON.stringify(options) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.once('message', (m: { port: number }) => resolve(m.port));
        child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
        timer = setTimeout(
          () => reject(new Error(`worker not ready within ${START_TIMEOUT_MS} ms`)),
          START_TIMEOUT_MS,
        );
      });
      child.removeAllListeners('exit');
      return new FleetWorker(child, port);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Its base URL on 127.0.0.1. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Sends a message and resolves with the worker's reply to it (rejects with its error). */
  ask(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const id = ++this.seq;
      const onMessage = (reply: Record<string, unknown>) => {
        if (reply.id !== id) return;
        this.child.off('message', onMessage);
        if (reply.error) reject(new Error(String(reply.error)));
        else resolve(reply);
      };
      this.child.on('message', onMessage);
      this.child.send({ ...message, id });
    });
  }

  /** Every line its app has logged so far, at every level. */
  async logs(): Promise<string[]> {
    return (await this.ask({ cmd: 'logs' })).lines as string[];
  }

  /** Closes its app and ends it (killed if it has not exited within 3 s). */
  async stop(): Promise<void> {
    const { child } = this;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    if (child.connected) child.send({ cmd: 'exit', id: ++this.seq });
    else child.kill('SIGKILL');
    await exited;
    clearTimeout(timer);
  }
}
