// Contender: the same route protected by VoxKeyModule and @Scopes.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { listenNest } from './common';
import { VoxKeyAppModule } from './voxkey-app';

void NestFactory.create(VoxKeyAppModule, { logger: false }).then(listenNest);
