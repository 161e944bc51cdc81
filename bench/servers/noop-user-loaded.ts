// Experiment: `noop-user.ts` in a process that also runs VoxKeyModule (strategy registered, key
// set fetched, its guards not applied): what loading and running the library costs the requests
// that do not use it.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { VoxKeyModule } from '../../lib/index';
import { env, listenNest } from './common';
import { AllowGuard, floorModule, SetUserGuard } from './floor';

const voxkey = VoxKeyModule.forRoot({
  domain: env.domain,
  realm: env.realm,
  audience: env.audience,
  globalGuard: false,
});

void NestFactory.create(floorModule([SetUserGuard, AllowGuard], [voxkey]), {
  logger: false,
}).then(listenNest);
