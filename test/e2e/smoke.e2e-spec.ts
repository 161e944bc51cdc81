import { Controller, Get, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { Scopes, VoxKeyModule } from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { createApp, PLATFORMS } from '../support/app';

@Controller('posts')
class PostsController {
  @Get() @Scopes('read:posts') list() {
    return ['a'];
  }
}

describe.each(PLATFORMS)('smoke on %s', (platform) => {
  let realm: VoxKeyTestRealm;
  let app: INestApplication;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
    app = await createApp(
      platform,
      [VoxKeyModule.forRoot(realm.moduleOptions())],
      [PostsController],
    );
  });
  afterAll(async () => {
    await app?.close();
    await realm?.close();
  });
  it('works', async () => {
    const ok = await request(app.getHttpServer())
      .get('/posts')
      .set('Authorization', `Bearer ${realm.mint({ scope: 'read:posts' })}`);
    expect(ok.status).toBe(200);
    const none = await request(app.getHttpServer()).get('/posts');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer realm=');
    const forbidden = await request(app.getHttpServer())
      .get('/posts')
      .set('Authorization', `Bearer ${realm.mint({ scope: 'x' })}`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual({
      statusCode: 403,
      error: 'Insufficient scope',
      message: expect.any(String),
    });
  });
});
