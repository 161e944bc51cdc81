// Jest runs this CommonJS app through @swc/jest: NestJS 12 is ESM-only and jest on Node 20 cannot
// require ES modules, so package.json lets @nestjs/* through transformIgnorePatterns.
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { VoxKeyModule } from '@voxkey/nestjs';
import { VoxKeyTestRealm } from '@voxkey/nestjs/testing';
import request from 'supertest';
import { PostsController } from './posts.controller';

describe('GET /posts', () => {
  let realm: VoxKeyTestRealm | undefined;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
    const moduleRef = await Test.createTestingModule({
      imports: [VoxKeyModule.forRoot(realm.moduleOptions())],
      controllers: [PostsController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
    // Listen on loopback ourselves: given an unbound server, supertest would listen on every interface.
    await app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await realm?.close();
  });

  it('answers 401 without a token', async () => {
    await request(app!.getHttpServer()).get('/posts').expect(401);
  });

  it('answers 200 with a token holding read:posts', async () => {
    const token = realm!.mint({ scope: 'read:posts' });
    await request(app!.getHttpServer())
      .get('/posts')
      .set('Authorization', `Bearer ${token}`)
      .expect(200, { for: 'test-user', posts: [] });
  });

  it('answers 403 with a token lacking read:posts', async () => {
    const token = realm!.mint({ scope: 'other' });
    await request(app!.getHttpServer())
      .get('/posts')
      .set('Authorization', `Bearer ${token}`)
      .expect(403);
  });
});
