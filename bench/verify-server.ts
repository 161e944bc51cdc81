// The server of `npm run bench:verify`: plain node:http on 127.0.0.1; each request's token (from
// `Authorization: Bearer ...`) is decoded and its signature checked with one method
// (BENCH_VERIFY_METHOD), against one public key (BENCH_VERIFY_KEY, SPKI PEM) imported once.
// 200 with the token's `sub` when it verifies, 401 otherwise. Prints `READY <port>`.
import { createPublicKey } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Algorithm, type Method, verifier } from './jws';

const method = process.env.BENCH_VERIFY_METHOD as Method;
const alg = process.env.BENCH_VERIFY_ALG as Algorithm;
const check = verifier(method, alg, createPublicKey(process.env.BENCH_VERIFY_KEY ?? ''));
const BEARER = 'Bearer ';

const server = createServer((request, response) => {
  const authorization = request.headers.authorization;
  if (!authorization?.startsWith(BEARER)) {
    response.writeHead(401).end();
    return;
  }
  check(authorization.slice(BEARER.length), (error, claims) => {
    if (error) {
      response.writeHead(401).end();
      return;
    }
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ sub: claims?.sub }));
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`READY ${(server.address() as AddressInfo).port}\n`);
});
