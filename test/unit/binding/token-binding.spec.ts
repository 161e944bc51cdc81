import { TokenBinding } from '../../../lib/binding/token-binding';
import { VoxKeyDpopError, VoxKeyTokenError } from '../../../lib/errors/voxkey.errors';
import type { ResolvedVoxKeyOptions } from '../../../lib/interfaces/resolved-voxkey-options.interface';
import { MemoryStore } from '../../../lib/store/memory.store';
import type { SharedState } from '../../../lib/store/shared-state';
import { DpopTestKey } from '../../../lib/testing/index';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';
import { MTLS, certificateThumbprint } from '../../support/mtls';

const REALM = '5a3f6c1e-2b7d-4e8a-9c0f-1d2e3f4a5b6c';
const PUBLIC = 'https://api.example.com';

function binding(extra: Record<string, unknown> = {}): TokenBinding {
  const options = resolveVoxKeyOptions({
    domain: 'https://your-domain.com',
    realm: REALM,
    audience: PUBLIC,
    dpop: { publicUrl: PUBLIC },
    ...extra,
  } as never) as ResolvedVoxKeyOptions;
  return new TokenBinding(options, {
    store: new MemoryStore(),
    shared: false,
  } as unknown as SharedState);
}

function request(headers: Record<string, string> = {}, url = '/posts', method = 'GET') {
  return { method, originalUrl: url, headers, rawHeaders: Object.entries(headers).flat() };
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof VoxKeyTokenError) return `token:${error.reason}`;
  if (error instanceof VoxKeyDpopError) return `dpop:${error.reason}`;
  return `other:${String(error)}`;
}

describe('TokenBinding', () => {
  const key = DpopTestKey.generate();
  const token = 'the.access.token';
  const proof = (opts = {}) => key.proof('GET', `${PUBLIC}/posts`, { accessToken: token, ...opts });

  it('lets an unbound Bearer token through with nothing to record', async () => {
    await expect(binding().check(request(), token, false, undefined)).resolves.toEqual({
      proof: undefined,
    });
  });

  it.each([
    ['a string', 'x'],
    ['an array', ['x']],
    ['an empty jkt', { jkt: '' }],
    ['a numeric x5t#S256', { 'x5t#S256': 7 }],
    ['neither jkt nor x5t#S256', { kid: 'k1' }],
  ])('refuses a cnf that is %s', async (_, cnf) => {
    expect(await failure(binding().check(request(), token, false, cnf))).toBe('token:binding');
  });

  it('checks the proof once per request and records it once, however many guard calls share it', async () => {
    const b = binding();
    const req = request({ dpop: proof() });
    const first = await b.check(req, token, true, key.cnf);
    expect(first.proof?.jkt).toBe(key.jkt);
    await expect(b.check(req, token, true, key.cnf)).resolves.toBe(first);
    await b.consume(first);
    await b.consume(first);
    // Another request with the same proof is a replay.
    const other = request({ dpop: req.headers.dpop });
    const again = await b.check(other, token, true, key.cnf);
    expect(await failure(b.consume(again))).toBe('dpop:replay');
  });

  it('reads the DPoP header and certificate headers only from what the connection sent (rawHeaders)', async () => {
    // A framework may add headers to `headers` (Mercurius copies connection_init into an
    // upgrade request's): they are not the client's, and not a proxy's.
    const injected = {
      method: 'GET',
      originalUrl: '/posts',
      headers: { dpop: proof() },
      rawHeaders: [],
    };
    expect(await failure(binding().check(injected, token, true, key.cnf))).toBe('dpop:proof');
    const cnf = { 'x5t#S256': certificateThumbprint(MTLS.clientA.cert) };
    const forged = {
      method: 'GET',
      headers: { 'ssl-client-cert': encodeURIComponent(MTLS.clientA.cert) },
      rawHeaders: ['Host', 'x'],
    };
    const mtls = binding({ mtls: { certificate: 'ssl-client-cert' } });
    expect(await failure(mtls.check(forged, token, false, cnf))).toBe('token:binding');
  });

  it('refuses a DPoP token where nothing can prove it (no request)', async () => {
    expect(await failure(binding().check(undefined, token, true, key.cnf))).toBe('dpop:proof');
    expect(await failure(binding().check(undefined, token, false, key.cnf))).toBe('token:binding');
  });

  it("in 'required' mode refuses Bearer tokens; with 'mtls' required, tokens without a certificate binding", async () => {
    const required = binding({ dpop: { publicUrl: PUBLIC, mode: 'required' } });
    expect(await failure(required.check(request(), token, false, undefined))).toBe('token:binding');
    const mtls = binding({ mtls: { certificate: 'ssl-client-cert', mode: 'required' } });
    expect(await failure(mtls.check(request(), token, false, undefined))).toBe('token:binding');
  });

  it('binds to a certificate: the matching one passes; another, none, or no mtls option is refused', async () => {
    const cnf = { 'x5t#S256': certificateThumbprint(MTLS.clientA.cert) };
    const mtls = binding({ mtls: { certificate: 'ssl-client-cert' } });
    const header = (pem: string) => request({ 'ssl-client-cert': encodeURIComponent(pem) });
    await expect(mtls.check(header(MTLS.clientA.cert), token, false, cnf)).resolves.toEqual({
      proof: undefined,
    });
    expect(await failure(mtls.check(header(MTLS.clientB.cert), token, false, cnf))).toBe(
      'token:binding',
    );
    expect(await failure(mtls.check(request(), token, false, cnf))).toBe('token:binding');
    expect(await failure(mtls.check(header('not a pem'), token, false, cnf))).toBe('token:binding');
    expect(await failure(binding().check(header(MTLS.clientA.cert), token, false, cnf))).toBe(
      'token:binding',
    );
  });

  it('needs both the proof and the certificate when cnf names both', async () => {
    const cnf = { ...key.cnf, 'x5t#S256': certificateThumbprint(MTLS.clientA.cert) };
    const b = binding({ mtls: { certificate: 'ssl-client-cert' } });
    const cert = { 'ssl-client-cert': encodeURIComponent(MTLS.clientA.cert) };
    expect(await failure(b.check(request({ dpop: proof() }), token, true, cnf))).toBe(
      'token:binding',
    );
    expect(await failure(b.check(request(cert), token, true, cnf))).toBe('dpop:proof');
    await expect(
      b.check(request({ ...cert, dpop: proof() }), token, true, cnf),
    ).resolves.toMatchObject({
      proof: { jkt: key.jkt },
    });
  });

  it('issues nonces only when they are configured', () => {
    expect(binding().nextNonce()).toBeUndefined();
    const withNonces = binding({
      dpop: { publicUrl: PUBLIC, nonce: { secrets: ['x'.repeat(32)] } },
    });
    expect(withNonces.nextNonce()).toMatch(/^[\w-]{32}$/);
  });
});
