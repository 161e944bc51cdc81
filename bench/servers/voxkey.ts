// Contender: the same route protected by VoxKeyModule and @Scopes.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { listenNest } from './common';
import { voxkeyAppModule } from './voxkey-app';

void NestFactory.create(voxkeyAppModule(), { logger: false }).then(listenNest);
