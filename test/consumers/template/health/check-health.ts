// Run with node after `tsc`: VoxKeyHealthIndicator inside a real @nestjs/terminus 11 health
// check on NestJS 11, against a local test realm on 127.0.0.1.
// (1) With `prewarm: 'off'`, GET /health/ready answers 503 (not 500) with the realm down and no
//     key loaded, and 20 probes make no JWKS request; after one GET /posts with a token it answers
//     200 with one key, and 20 more probes still make no JWKS request.
// (2) With the default pre-warm, a second app becomes ready without any request, having fetched
//     the key set once, and its first GET /posts fetches nothing.
// Exits 0 or 1.
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type VoxKeyModuleOptions } from '@voxkey/nestjs';
import { VoxKeyTestRealm } from '@voxkey/nestjs/testing';
import { HealthAppModule } from './health-app.module';
import { runCheck } from './run-check';

interface Readiness {
  status: number;
  body: {
    status?: string;
    info?: Record<
      string,
      { status?: string; realms?: Record<string, { keySet?: { keys?: number } }> }
    >;
    error?: Record<
      string,
      { status?: string; realms?: Record<string, { keySet?: { keys?: number } }> }
    >;
  };
}

async function boot(options: VoxKeyModuleOptions): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(HealthAppModule.withVoxKey(options), {
    logger: ['error', 'warn'],
  });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

async function readiness(url: string): Promise<Readiness> {
  const response = await fetch(`${url}/health/ready`);
  return { status: response.status, body: (await response.json()) as Readiness['body'] };
}

async function posts(url: string, token: string): Promise<number> {
  const response = await fetch(`${url}/posts`, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

async function main(): Promise<boolean> {
  const realm = await VoxKeyTestRealm.start();
  let app: INestApplication | undefined;
  let ok = true;
  const expect = (name: string, passed: boolean, detail: unknown) => {
    if (passed) console.log(`${name}: ok`);
    else {
      ok = false;
      console.error(`${name}: expected otherwise, got ${JSON.stringify(detail)}`);
    }
  };
  try {
    let url: string;
    ({ app, url } = await boot(realm.moduleOptions({ prewarm: 'off' })));
    const cold = await readiness(url);
    expect(
      'cold: 503 with the realm down',
      cold.status === 503 &&
        cold.body.status === 'error' &&
        cold.body.error?.voxkey?.status === 'down' &&
        cold.body.error.voxkey.realms?.default?.keySet?.keys === 0,
      cold,
    );
    const coldStatuses = new Set<number>();
    for (let i = 0; i < 20; i++) coldStatuses.add((await readiness(url)).status);
    expect(
      'cold: 20 probes, no JWKS request',
      realm.jwksRequests === 0 && coldStatuses.size === 1 && coldStatuses.has(503),
      { jwksRequests: realm.jwksRequests, statuses: [...coldStatuses] },
    );

    const token = realm.mint({ scope: 'read:posts' });
    expect('GET /posts with a token', (await posts(url, token)) === 200, realm.jwksRequests);
    const warm = await readiness(url);
    expect(
      'warm: 200 with one key',
      warm.status === 200 &&
        warm.body.status === 'ok' &&
        warm.body.info?.voxkey?.status === 'up' &&
        warm.body.info.voxkey.realms?.default?.keySet?.keys === 1,
      warm,
    );
    for (let i = 0; i < 20; i++) await readiness(url);
    expect('warm: 20 probes, still one JWKS request', realm.jwksRequests === 1, realm.jwksRequests);
    await app.close();
    app = undefined;

    const before = realm.jwksRequests;
    ({ app, url } = await boot(realm.moduleOptions()));
    let ready: Readiness | undefined;
    for (let i = 0; i < 100 && ready?.status !== 200; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      ready = await readiness(url);
    }
    expect(
      'pre-warm: ready with no request, after one JWKS request',
      ready?.status === 200 && realm.jwksRequests - before === 1,
      { ready, jwksRequests: realm.jwksRequests - before },
    );
    expect(
      'pre-warm: the first GET /posts fetches nothing',
      (await posts(url, token)) === 200 && realm.jwksRequests - before === 1,
      realm.jwksRequests - before,
    );
    return ok;
  } finally {
    await app?.close();
    await realm.close();
  }
}

runCheck(main, 'the apps and the realm');
