import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { VoxKeyHealthIndicator, type VoxKeyHealth } from '../../lib/index';
import { RealmRegistry } from '../../lib/realm/realm.registry';

/** GET /health/ready (the route of `HealthController`, in health-controller.ts). */
export const readiness = (app: INestApplication) =>
  request(app.getHttpServer()).get('/health/ready');

/** The indicator's report, straight from the provider (no HTTP). */
export async function voxkeyHealth(app: INestApplication): Promise<VoxKeyHealth> {
  return (await app.get(VoxKeyHealthIndicator).isHealthy()).voxkey;
}

/**
 * Waits until `check` holds, polling the indicator (which never fetches anything) every 20 ms;
 * fails after `tries` polls.
 */
export async function untilHealth(
  app: INestApplication,
  check: (health: VoxKeyHealth) => boolean,
  tries = 250,
): Promise<VoxKeyHealth> {
  for (let i = 0; i < tries; i++) {
    const health = await voxkeyHealth(app);
    if (check(health)) return health;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the health report never matched: ${JSON.stringify(await voxkeyHealth(app))}`);
}

/**
 * Waits for the start-up pre-warm (on by default) to have loaded, or failed to load, every
 * configured realm's key set, reading the key providers' state (which fetches nothing).
 */
export async function prewarmSettled(app: INestApplication): Promise<void> {
  const realms = app.get(RealmRegistry).all();
  for (let i = 0; i < 250; i++) {
    if (realms.every(({ keys }) => keys.state.keys > 0 || keys.state.lastFetchFailed)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the key sets were neither loaded nor failed 5 s after start-up');
}
