// Each app's package.json says how jest runs this file:
// - nest11-cjs: ts-jest, as the Nest starter sets it up.
// - nest12-cjs: @swc/jest with CommonJS output. NestJS 12 is ESM-only and jest on Node 20 cannot
//   require ES modules, so transformIgnorePatterns lets @nestjs/* through the transform.
// - nest12-esm: native ESM jest, as the jest docs have ESM users run it: `node
//   --experimental-vm-modules` with ts-jest's default-esm preset, so this file, NestJS 12 and the
//   library's dist/esm all load as ES modules (its moduleNameMapper maps `./x.js` back to x.ts).
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
