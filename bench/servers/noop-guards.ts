// Not a contender: the floor of two global NestJS guards that do nothing, to see what Nest's
// guard machinery alone costs per request compared with the bare route.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { listenNest } from './common';
import { AllowGuard, floorModule } from './floor';

void NestFactory.create(floorModule([AllowGuard, AllowGuard]), { logger: false }).then(listenNest);
