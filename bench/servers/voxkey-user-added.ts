// Experiment: `voxkey.ts` without the module's `request` listener that declares `req.user` on
// arrival (RequestUserSlot), so the guard adds the property to a request object whose hidden
// class Express has already made its own: what that listener saves.
import 'reflect-metadata';
import type { EventEmitter } from 'node:events';
import { NestFactory } from '@nestjs/core';
import { declareUser } from '../../lib/http/request-user-slot';
import { listenNest } from './common';
import { VoxKeyAppModule } from './voxkey-app';

void NestFactory.create(VoxKeyAppModule, { logger: false }).then(async (app) => {
  await app.init();
  const server = app.getHttpServer() as EventEmitter;
  if (!server.listeners('request').includes(declareUser)) {
    throw new Error('RequestUserSlot did not add its listener');
  }
  server.removeListener('request', declareUser);
  await listenNest(app);
});
