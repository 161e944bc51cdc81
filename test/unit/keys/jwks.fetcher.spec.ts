import type { ServerResponse } from 'node:http';
import { VoxKeyJwksError } from '../../../lib/index';
import { createJwksFetcher, jwksErrorCode } from '../../../lib/keys/jwks.fetcher';
import { freePort } from '../../support/free-port';
import { HttpStub } from '../../support/http-stub';

/** The code the fetcher's failure gives events (and the error it was). */
async function failureOf(fetch: Promise<unknown>): Promise<string> {
  const error = await fetch.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(VoxKeyJwksError);
  return jwksErrorCode(error);
}

describe('the JWKS fetcher error codes', () => {
  let stub: HttpStub;
  const fetchJwks = createJwksFetcher(300, 1024);
  beforeAll(async () => {
    stub = await HttpStub.start();
  });
  afterAll(async () => stub?.close());

  it('a key set: no error', async () => {
    stub.serveJson({ keys: [{ kty: 'RSA' }] });
    await expect(fetchJwks(`${stub.origin}/jwks`)).resolves.toEqual({ keys: [{ kty: 'RSA' }] });
  });

  type Answer = (res: ServerResponse) => void;
  it.each<[string, string, Answer]>([
    ['HTTP 500', 'http_error', (res) => res.writeHead(500).end()],
    ['a redirect', 'http_error', (res) => res.writeHead(302, { location: '/x' }).end()],
    ['not JSON', 'invalid_response', (res) => res.writeHead(200).end('<html>')],
    ['not a key set', 'invalid_response', (res) => res.writeHead(200).end('{"keys":1}')],
    ['too large', 'invalid_response', (res) => res.writeHead(200).end('x'.repeat(2048))],
    ['no answer', 'timeout', () => undefined],
  ])('%s: %s', async (_name, code, answer) => {
    stub.handler = (_req, res) => answer(res);
    expect(await failureOf(fetchJwks(`${stub.origin}/jwks`))).toBe(code);
  });

  it('nobody listening on the port: network_error', async () => {
    const port = await freePort();
    expect(await failureOf(fetchJwks(`http://127.0.0.1:${port}/jwks`))).toBe('network_error');
  });

  it('any other failure (a set with no usable key, a key that does not import) is invalid_response', () => {
    expect(jwksErrorCode(new VoxKeyJwksError('JWKS holds no usable signing key'))).toBe(
      'invalid_response',
    );
    expect(jwksErrorCode(new TypeError('bad key'))).toBe('invalid_response');
  });
});
