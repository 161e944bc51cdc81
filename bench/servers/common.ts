// Shared by the benchmark's server processes: the same tiny route everywhere, and start-up.
import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';

export const POSTS = [{ id: 1, title: 'Hello' }];

/** Settings the driver passes to every contender. */
export const env = {
  jwksUri: process.env.BENCH_JWKS_URI ?? '',
  issuer: process.env.BENCH_ISSUER ?? '',
  audience: process.env.BENCH_AUDIENCE ?? '',
  domain: process.env.BENCH_DOMAIN ?? '',
  realm: process.env.BENCH_REALM ?? '',
};

/** Tells the driver where this contender listens. */
export function ready(port: number): void {
  process.stdout.write(`READY ${port}\n`);
}

export async function listenNest(app: INestApplication): Promise<void> {
  await app.listen(0, '127.0.0.1');
  ready((app.getHttpServer().address() as AddressInfo).port);
}

// Exit cleanly on SIGTERM, so `node --cpu-prof` can write its profile.
process.once('SIGTERM', () => process.exit(0));
