import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { VoxKeyHealthIndicator, type VoxKeyHealth } from '../../lib/index';

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
