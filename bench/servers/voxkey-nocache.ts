// Experiment: the `voxkey` contender with the verified-token cache turned off.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { listenNest } from './common';
import { voxkeyAppModule } from './voxkey-app';

void NestFactory.create(voxkeyAppModule({ tokenCache: { maxEntries: 0 } }), {
  logger: false,
}).then(listenNest);
