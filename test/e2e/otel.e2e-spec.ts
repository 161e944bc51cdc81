import { Controller, Get, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { Public, Scopes, VoxKeyModule } from '../../lib/index';
import { startVoxKeyMetrics, type VoxKeyMetrics } from '../../lib/otel';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { createApp, PLATFORMS } from '../support/app';
import { memoryMeter, type MemoryMeter } from '../support/otel-reader';

@Controller()
class MetricsController {
  @Get('posts')
  @Scopes('read:posts')
  posts(): string[] {
    return [];
  }

  @Get('health')
  @Public()
  health(): string {
    return 'ok';
  }
}

describe.each(PLATFORMS)(
  '@voxkey/nestjs/otel after a known sequence of requests (%s)',
  (platform) => {
    let realm: VoxKeyTestRealm;
    let app: INestApplication;
    let otel: MemoryMeter;
    let recording: VoxKeyMetrics;

    beforeAll(async () => {
      realm = await VoxKeyTestRealm.start();
      // Recording from before start-up: the blocking pre-warm's fetch is counted too.
      otel = memoryMeter();
      recording = startVoxKeyMetrics({ meter: otel.meter });
      app = await createApp(
        platform,
        [VoxKeyModule.forRoot(realm.moduleOptions({ prewarm: 'block' }))],
        [MetricsController],
      );
    });
    afterAll(async () => {
      recording?.stop();
      await otel?.shutdown();
      await app?.close();
      await realm?.close();
    });

    it('counts outcomes by reason and context, the guards time, and the key-set fetch, exactly', async () => {
      const http = () => request(app.getHttpServer());
      const good = realm.mint({ scope: 'read:posts' });
      for (let i = 0; i < 3; i++) {
        expect((await http().get('/posts').set('Authorization', `Bearer ${good}`)).status).toBe(
          200,
        );
      }
      expect((await http().get('/posts')).status).toBe(401);
      expect((await http().get('/posts')).status).toBe(401);
      const expired = realm.mint({ scope: 'read:posts', expiresIn: -60 });
      expect((await http().get('/posts').set('Authorization', `Bearer ${expired}`)).status).toBe(
        401,
      );
      const unscoped = realm.mint({ scope: 'other' });
      expect((await http().get('/posts').set('Authorization', `Bearer ${unscoped}`)).status).toBe(
        403,
      );
      // Public routes are not authentication outcomes.
      expect((await http().get('/health')).status).toBe(200);

      const points = await otel.points();
      const sum = (name: string, match: Record<string, unknown>) =>
        points
          .filter((p) => p.name === name)
          .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
          .reduce((n, p) => n + p.value, 0);
      const auth = 'voxkey.auth.requests';
      // 3 good calls and the unscoped token's call were accepted by VoxKeyAuthGuard.
      expect(sum(auth, { 'voxkey.outcome': 'accepted', 'voxkey.context': 'http' })).toBe(4);
      expect(sum(auth, { 'voxkey.outcome': 'accepted', 'voxkey.cached': true })).toBe(2);
      expect(sum(auth, { 'voxkey.outcome': 'refused', 'error.type': 'no_token' })).toBe(2);
      expect(sum(auth, { 'voxkey.outcome': 'refused', 'error.type': 'expired' })).toBe(1);
      expect(sum(auth, { 'voxkey.outcome': 'refused', 'error.type': 'insufficient_scope' })).toBe(
        1,
      );
      expect(sum(auth, {})).toBe(8);
      expect(sum('voxkey.auth.duration', {})).toBe(8);
      expect(
        sum('voxkey.jwks.fetches', { 'voxkey.trigger': 'prewarm', 'voxkey.outcome': 'ok' }),
      ).toBe(1);
      expect(sum('voxkey.jwks.fetches', {})).toBe(1);
      // No token, subject or URL in any attribute.
      const text = JSON.stringify(points);
      for (const token of [good, expired, unscoped]) {
        for (const part of token.split('.')) expect(text).not.toContain(part);
      }
      expect(text).not.toContain('test-user');
      expect(text).not.toContain('/posts');
    });
  },
);
