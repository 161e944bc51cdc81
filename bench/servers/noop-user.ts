// Not a contender: two global NestJS guards that do no checking, the first of which does what
// any authentication guard must: note the token on the request and set `req.user` to a copy of
// a claims object. The floor of an authentication layer in Nest, next to `noop-guards.ts`.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { listenNest } from './common';
import { AllowGuard, floorModule, SetUserGuard } from './floor';

void NestFactory.create(floorModule([SetUserGuard, AllowGuard]), { logger: false }).then(
  listenNest,
);
