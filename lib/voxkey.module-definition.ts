import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ScopesGuard } from './guards/scopes.guard.js';
import { VoxKeyAuthGuard } from './guards/voxkey-auth.guard.js';
import type {
  VoxKeyModuleExtras,
  VoxKeyModuleOptions,
} from './interfaces/voxkey-module-options.interface.js';
import { VOXKEY_MODULE_OPTIONS } from './voxkey.constants.js';

/** Global guards, in order: authentication first, then scopes. */
const GLOBAL_GUARDS: Provider[] = [
  { provide: APP_GUARD, useExisting: VoxKeyAuthGuard },
  { provide: APP_GUARD, useExisting: ScopesGuard },
];

/**
 * `forRoot`/`forRootAsync` from Nest's `ConfigurableModuleBuilder`; the extras' transform, which
 * runs for both, is the one place that adds the global guards.
 */
export const { ConfigurableModuleClass: ConfigurableVoxKeyModule, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<VoxKeyModuleOptions>({
    moduleName: 'VoxKey',
    optionsInjectionToken: VOXKEY_MODULE_OPTIONS,
  })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createVoxKeyOptions')
    .setExtras<Required<VoxKeyModuleExtras>>(
      { isGlobal: true, globalGuard: true },
      (definition, extras) => ({
        ...definition,
        global: extras.isGlobal,
        providers: [...(definition.providers ?? []), ...(extras.globalGuard ? GLOBAL_GUARDS : [])],
      }),
    )
    .build();

/**
 * What `VoxKeyModule.forRootAsync()` takes: `useFactory` (with `inject` and `imports`),
 * `useClass` or `useExisting`, plus the extras (`isGlobal`, `globalGuard`).
 * @publicApi
 */
export type VoxKeyModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
