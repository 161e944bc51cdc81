import { Controller, Get, type INestApplication, Req } from '@nestjs/common';
import type { EventEmitter } from 'node:events';
import request from 'supertest';
import { declareUser } from '../../lib/http/request-user-slot';
import { Public } from '../../lib/index';
import { PLATFORMS } from '../support/app';
import { realmScenario } from '../support/realm-scenario';

type RequestRecord = Record<string, unknown>;

/** What the handler saw of its request object. */
function shapeOf(req: RequestRecord) {
  const keys = Object.keys(req);
  return {
    hasOwnUser: Object.hasOwn(req, 'user'),
    sub: (req.user as { sub?: string } | undefined)?.sub ?? null,
    userIndex: keys.indexOf('user'),
    originalUrlIndex: keys.indexOf('originalUrl'),
  };
}

@Controller('shape')
class ShapeController {
  @Get() guarded(@Req() req: RequestRecord) {
    return shapeOf(req);
  }

  @Public() @Get('public') open(@Req() req: RequestRecord) {
    return shapeOf(req);
  }
}

const requestListeners = (app: INestApplication) =>
  (app.getHttpServer() as EventEmitter).listeners('request');
const isUserSlot = (listener: unknown) => listener === declareUser;

describe.each(PLATFORMS)('the request object (%s)', (platform) => {
  const { ctx } = realmScenario(platform, {}, {}, [ShapeController]);

  if (platform === 'express') {
    it('has `user` declared on arrival, before Express adds its own properties', async () => {
      const res = await request(ctx.app.getHttpServer())
        .get('/shape')
        .set('Authorization', `Bearer ${ctx.realm.mint({ subject: 'alice' })}`);
      expect(res.status).toBe(200);
      expect(res.body.sub).toBe('alice');
      expect(res.body.originalUrlIndex).toBeGreaterThan(-1);
      expect(res.body.userIndex).toBeGreaterThan(-1);
      expect(res.body.userIndex).toBeLessThan(res.body.originalUrlIndex);
    });

    it('leaves `user` undefined where the guard does not run (a public route)', async () => {
      const res = await request(ctx.app.getHttpServer()).get('/shape/public');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ hasOwnUser: true, sub: null });
    });

    it('adds its listener once, first, and removes it when the application closes', async () => {
      const listeners = requestListeners(ctx.app);
      expect(isUserSlot(listeners[0])).toBe(true);
      expect(listeners.filter(isUserSlot)).toHaveLength(1);

      const server = ctx.app.getHttpServer() as EventEmitter;
      await ctx.app.close();
      expect(server.listeners('request').some(isUserSlot)).toBe(false);
      ctx.app = undefined as unknown as INestApplication; // closed: afterAll has nothing left to close
    });
  } else {
    it('is left as Fastify made it: no listener is added, and the guard still sets `user`', async () => {
      expect(requestListeners(ctx.app).some(isUserSlot)).toBe(false);
      const res = await request(ctx.app.getHttpServer())
        .get('/shape')
        .set('Authorization', `Bearer ${ctx.realm.mint({ subject: 'bob' })}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ hasOwnUser: true, sub: 'bob' });
      const open = await request(ctx.app.getHttpServer()).get('/shape/public');
      expect(open.body).toMatchObject({ hasOwnUser: false, sub: null });
    });
  }
});
