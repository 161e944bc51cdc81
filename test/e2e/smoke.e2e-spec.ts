import { Controller, Get } from '@nestjs/common';
import request from 'supertest';
import { Scopes } from '../../lib/index';
import { PLATFORMS } from '../support/app';
import { realmScenario } from '../support/realm-scenario';

@Controller('posts')
class PostsController {
  @Get() @Scopes('read:posts') list() {
    return ['a'];
  }
}

describe.each(PLATFORMS)('smoke on %s', (platform) => {
  const { ctx } = realmScenario(platform, {}, {}, { controllers: [PostsController] });
  it('works', async () => {
    const ok = await request(ctx.app.getHttpServer())
      .get('/posts')
      .set('Authorization', `Bearer ${ctx.realm.mint({ scope: 'read:posts' })}`);
    expect(ok.status).toBe(200);
    const none = await request(ctx.app.getHttpServer()).get('/posts');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer realm=');
    const forbidden = await request(ctx.app.getHttpServer())
      .get('/posts')
      .set('Authorization', `Bearer ${ctx.realm.mint({ scope: 'x' })}`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual({
      statusCode: 403,
      error: 'Insufficient scope',
      message: expect.any(String),
    });
  });
});
