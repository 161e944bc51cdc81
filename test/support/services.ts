import { Logger, type LoggerService } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  IntrospectionService,
  M2MTokenService,
  RevocationService,
  VoxKeyModule,
  type VoxKeyModuleOptions,
} from '../../lib/index';
import { RevocationList } from '../../lib/services/revocation-list';

/** Testing modules built here and not yet closed. */
const open = new Set<TestingModule>();

/**
 * The services of a compiled `VoxKeyModule.forRoot(options)`, for service-level tests against a
 * real realm: the module's own providers, so the tests cannot drift from its wiring. The module
 * is compiled, not initialised (its strategies are not registered with Passport), so several
 * instances can live side by side, as several API instances would.
 * Logs go to `logger`, or nowhere. Close them with {@link closeServices} where the test cleans up.
 */
export async function buildServices(options: VoxKeyModuleOptions, logger?: LoggerService) {
  const builder = Test.createTestingModule({ imports: [VoxKeyModule.forRoot(options)] });
  const moduleRef = await (logger ? builder.setLogger(logger) : builder).compile();
  // compile() installs Nest's TestingLogger process-wide; as createApp does: `logger`, or none.
  Logger.overrideLogger(logger ?? false);
  open.add(moduleRef);
  // All four are among the module's exports.
  return {
    revoked: moduleRef.get(RevocationList),
    introspection: moduleRef.get(IntrospectionService),
    revocation: moduleRef.get(RevocationService),
    m2m: moduleRef.get(M2MTokenService),
  };
}

export type Services = Awaited<ReturnType<typeof buildServices>>;

/**
 * Closes every module {@link buildServices} built and not yet closed, running the module's
 * shutdown hooks (M2M timers cleared, the shared store closed): for `afterEach`.
 */
export async function closeServices(): Promise<void> {
  const modules = [...open];
  open.clear();
  await Promise.all(modules.map((moduleRef) => moduleRef.close()));
}
