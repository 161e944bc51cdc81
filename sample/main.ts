import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type AddressInfo, createServer } from 'node:net';
import { AppModule } from './app.module';
import type { DevRealm } from './dev-realm/dev-realm';
import { SampleRuntime } from './sample.config';

function portFrom(name: string, fallback: number): number {
  const value = process.env[name];
  const port = value === undefined || value === '' ? fallback : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} must be a port number (0 picks a free one), got "${value}"`);
  }
  return port;
}

/** A port free on 127.0.0.1 now: the API's URL (its resource URIs) is needed before it listens. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function isPortInUse(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'EADDRINUSE';
}

async function main(): Promise<void> {
  const requested = portFrom('PORT', 3000);
  const port = requested === 0 ? await freePort() : requested;
  // The API's resource URI, and its MCP server's, are URLs of this server (RFC 9728).
  const apiUrl = `http://127.0.0.1:${port}`;
  let realm: DevRealm | undefined;
  let sampleRealm: typeof import('./dev-realm/sample-realm') | undefined;

  if (!process.env.VOXKEY_DOMAIN) {
    // No VoxKey configured: start the embedded development realm and point the API at it.
    sampleRealm = await import('./dev-realm/sample-realm');
    const devPort = portFrom('VOXKEY_DEV_PORT', 3001);
    try {
      realm = await sampleRealm.startSampleRealm(devPort, apiUrl);
    } catch (error) {
      if (!isPortInUse(error)) throw error;
      console.error(
        `Port ${devPort} (VOXKEY_DEV_PORT) is already in use; try VOXKEY_DEV_PORT=3101 npm start`,
      );
      process.exit(1);
    }
    Object.assign(process.env, {
      VOXKEY_DOMAIN: realm.domain,
      VOXKEY_REALM: realm.realm,
      VOXKEY_AUDIENCE: apiUrl,
      VOXKEY_CLIENT_ID: sampleRealm.API_CLIENT.clientId,
      VOXKEY_CLIENT_SECRET: sampleRealm.API_CLIENT.clientSecret,
    });
  }

  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn', 'log'] });
  try {
    await app.listen(port, '127.0.0.1');
  } catch (error) {
    if (!isPortInUse(error)) throw error;
    console.error(`Port ${port} (PORT) is already in use; try PORT=3100 npm start`);
    await app.close();
    await realm?.close();
    process.exit(1);
  }
  app.get(SampleRuntime).selfUrl = apiUrl;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    Logger.log(`${signal}: stopping`, 'Sample');
    await app.close();
    await realm?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  console.log(`\nVoxKey sample API listening on ${apiUrl}`);
  if (realm && sampleRealm) console.log(sampleRealm.instructions(apiUrl, realm));
  else console.log(`Using the VoxKey realm at ${process.env.VOXKEY_DOMAIN}\n`);
  console.log('Press Ctrl-C to stop.');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
