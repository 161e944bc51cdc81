// Run with node after `tsc`: boots the app against a local test realm on 127.0.0.1 and checks
// GET /posts without a token (401), with the scope (200, twice: a miss, then a cache hit) and
// without it (403). Exits 0 or 1.
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { VoxKeyTestRealm } from '@voxkey/nestjs/testing';
import { AppModule } from './app.module';
import { runCheck } from './run-check';

async function main(): Promise<boolean> {
  const realm = await VoxKeyTestRealm.start();
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(AppModule.withVoxKey(realm.moduleOptions()), {
      logger: ['error', 'warn'],
    });
    await app.listen(0, '127.0.0.1');
    const url = `${await app.getUrl()}/posts`;
    const valid = realm.mint({ scope: 'read:posts' });
    const cases = [
      { name: 'no token', token: undefined, status: 401 },
      { name: 'read:posts', token: valid, status: 200 },
      { name: 'read:posts again', token: valid, status: 200 },
      { name: 'other scope', token: realm.mint({ scope: 'other' }), status: 403 },
    ];
    let ok = true;
    for (const { name, token, status } of cases) {
      const response = await fetch(url, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      const body = await response.text();
      if (response.status !== status) {
        ok = false;
        console.error(`${name}: expected ${status}, got ${response.status} ${body}`);
      } else if (status === 200 && JSON.parse(body).for !== 'test-user') {
        ok = false;
        console.error(`${name}: unexpected body ${body}`);
      } else {
        console.log(`${name}: ${response.status}`);
      }
    }
    return ok;
  } finally {
    await app?.close();
    await realm.close();
  }
}

runCheck(main, 'the app and the realm');
