import type { INestApplication, Type } from '@nestjs/common';
import request from 'supertest';
import { VoxKeyModule, type VoxKeyModuleOptions } from '../../lib/index';
import { type TestRealmOptions, VoxKeyTestRealm } from '../../lib/testing/index';
import { CONTROLLERS } from './routes';
import { createApp, type Platform } from './app';

/**
 * Registers beforeAll/afterAll that start a test realm and an app configured for it, on the
 * given platform (the shared test routes unless `controllers` says otherwise). Returns the live context and a helper calling GET /open with a token.
 */
export function realmScenario(
  platform: Platform,
  realmOptions: TestRealmOptions = {},
  options: Partial<VoxKeyModuleOptions> = {},
  controllers: Type[] = CONTROLLERS,
) {
  const ctx = {} as { realm: VoxKeyTestRealm; app: INestApplication };
  beforeAll(async () => {
    ctx.realm = await VoxKeyTestRealm.start(realmOptions);
    ctx.app = await createApp(
      platform,
      [VoxKeyModule.forRoot(ctx.realm.moduleOptions(options))],
      controllers,
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
