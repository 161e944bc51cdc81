import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { VoxKeyModule, type VoxKeyModuleOptions } from '../../lib/index';
import { type TestRealmOptions, VoxKeyTestRealm } from '../../lib/testing/index';
import { CONTROLLERS } from '../e2e/routes';
import { createApp, type Platform } from './app';

/**
 * Registers beforeAll/afterAll that start a test realm and an app configured for it, on the
 * given platform. Returns the live context and a helper calling GET /open with a token.
 */
export function realmScenario(
  platform: Platform,
  realmOptions: TestRealmOptions = {},
  options: Partial<VoxKeyModuleOptions> = {},
) {
  const ctx = {} as { realm: VoxKeyTestRealm; app: INestApplication };
  beforeAll(async () => {
    ctx.realm = await VoxKeyTestRealm.start(realmOptions);
    ctx.app = await createApp(
      platform,
      [VoxKeyModule.forRoot(ctx.realm.moduleOptions(options))],
      CONTROLLERS,
    );
  });
  afterAll(async () => {
    await ctx.app?.close();
    await ctx.realm?.close();
  });
  const call = (token: string) =>
    request(ctx.app.getHttpServer()).get('/open').set('Authorization', `Bearer ${token}`);
  return { ctx, call };
}
