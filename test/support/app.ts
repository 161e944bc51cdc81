import type { DynamicModule, INestApplication, LoggerService, Type } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

/**
 * Boots a real Nest application on the given HTTP platform, ready for supertest, on `port` (a
 * free one by default; give one to an app that must know its own URL before it starts).
 */
export async function createApp(
  platform: Platform,
  imports: (DynamicModule | Type)[],
  controllers: Type[],
  logger?: LoggerService,
  port = 0,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports, controllers }).compile();
  const app = moduleRef.createNestApplication(
    platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
    { logger: logger ?? false },
  );
  // Listening on loopback (not only init) so raw-socket tests can reach the real server.
  await app.listen(port, '127.0.0.1');
  if (platform === 'fastify')
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}
