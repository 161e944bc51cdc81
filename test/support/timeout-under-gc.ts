// Run by realm-http.client.spec.ts as `node --expose-gc -r ts-register <this file>`: a realm
// endpoint that never answers, a caller's signal, and the garbage collector running every 20 ms.
// Prints the outcome as one JSON line.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RealmHttpClient } from '../../lib/realm/realm-http.client';
import { resolveVoxKeyOptions } from '../../lib/voxkey.providers';

async function main(): Promise<void> {
  const server = http.createServer(() => undefined).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const options = resolveVoxKeyOptions({
    domain: `http://127.0.0.1:${port}`,
    realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
    audience: 'https://api.example.test',
    requestTimeoutMs: 300,
  });
  const collector = setInterval(() => (globalThis as { gc?: () => void }).gc?.(), 20);
  const verdict = setTimeout(() => finish({ outcome: 'hung' }), 3_000);
  const finish = (result: object) => {
    clearInterval(collector);
    clearTimeout(verdict);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    server.closeAllConnections();
    server.close();
  };
  new RealmHttpClient(options)
    .post(
      options.realms[0].endpoints,
      'token',
      { grant_type: 'client_credentials' },
      { clientId: 'c', clientSecret: 's' },
      {
        signal: new AbortController().signal,
      },
    )
    .then(
      () => finish({ outcome: 'answered' }),
      (error: { error?: string }) => finish({ outcome: 'failed', error: error.error }),
    );
}

void main();
