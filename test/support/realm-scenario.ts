import type { DynamicModule, INestApplication, LoggerService, Type } from '@nestjs/common';
import request from 'supertest';
import { VoxKeyModule, type VoxKeyModuleExtras, type VoxKeyModuleOptions } from '../../lib/index';
import { type TestRealmOptions, VoxKeyTestRealm } from '../../lib/testing/index';
import { createApp, type Platform } from './app';
import { prewarmSettled } from './health';
import { CONTROLLERS } from './routes';

/** What a scenario adds to the app besides VoxKeyModule. */
export interface ScenarioExtras {
  /** @default the shared test routes */
  controllers?: Type[];
  /** Modules imported beside `VoxKeyModule.forRoot()`. */
  imports?: (DynamicModule | Type)[];
  /** Receives the app's log (also set with `useLogger`). */
  logger?: LoggerService;
}

/**
 * Registers beforeAll/afterAll that start a test realm and an app configured for it, on the
 * given platform. Returns the live context and a helper calling GET /open with a token.
 */
export function realmScenario(
  platform: Platform,
  realmOptions: TestRealmOptions = {},
  // Extras (globalGuard, isGlobal) pass through moduleOptions() to forRoot().
  options: Partial<VoxKeyModuleOptions> & VoxKeyModuleExtras = {},
  { controllers = CONTROLLERS, imports = [], logger }: ScenarioExtras = {},
) {
  const ctx = {} as { realm: VoxKeyTestRealm; app: INestApplication };
  beforeAll(async () => {
    ctx.realm = await VoxKeyTestRealm.start(realmOptions);
    ctx.app = await createApp(
      platform,
      [VoxKeyModule.forRoot(ctx.realm.moduleOptions(options)), ...imports],
      controllers,
      logger,
    );
    if (logger) ctx.app.useLogger(logger);
    // Tests count JWKS requests from here: the start-up fetch has been made by then.
    if (options.prewarm !== 'off' && options.validation !== 'introspection') {
      await prewarmSettled(ctx.app);
    }
  });
  afterAll(async () => {
    await ctx.app?.close();
    await ctx.realm?.close();
  });
  const call = (token: string) =>
    request(ctx.app.getHttpServer()).get('/open').set('Authorization', `Bearer ${token}`);
  return { ctx, call };
}
