import crypto, { generateKeyPairSync } from 'node:crypto';
import type { VoxKeyAlgorithm } from '../../../lib/index';
import { verifyJwsSignature } from '../../../lib/token/jws-signature';
import { signJws, type TestRealmAlgorithm } from '../../../lib/testing/index';

const KEYS = {
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  PS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  ES384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  EdDSA: generateKeyPairSync('ed25519'),
};
const tokenFor = (alg: keyof typeof KEYS) =>
  signJws({ alg, typ: 'at+jwt' }, { sub: 'x' }, KEYS[alg].privateKey, alg as TestRealmAlgorithm);

describe('verifyJwsSignature', () => {
  afterEach(() => jest.restoreAllMocks());

  it.each(Object.keys(KEYS) as (keyof typeof KEYS)[])(
    '%s: a good signature verifies, a changed payload or another key does not',
    async (alg) => {
      const token = tokenFor(alg);
      expect(await verifyJwsSignature(token, alg, KEYS[alg].publicKey)).toBe(true);
      const [header, , signature] = token.split('.');
      const forged = `${header}.${Buffer.from('{"sub":"y"}').toString('base64url')}.${signature}`;
      expect(await verifyJwsSignature(forged, alg, KEYS[alg].publicKey)).toBe(false);
      const other = alg === 'EdDSA' ? generateKeyPairSync('ed25519') : null;
      if (other) expect(await verifyJwsSignature(token, alg, other.publicKey)).toBe(false);
    },
  );

  it('an ECDSA signature of the wrong length is refused before any check (R || S only)', async () => {
    const token = tokenFor('ES256');
    const [header, payload] = token.split('.');
    const der = Buffer.alloc(72, 1).toString('base64url');
    const spy = jest.spyOn(crypto, 'verify');
    expect(
      await verifyJwsSignature(`${header}.${payload}.${der}`, 'ES256', KEYS.ES256.publicKey),
    ).toBe(false);
    expect(spy).not.toHaveBeenCalled();
  });

  it.each<[VoxKeyAlgorithm, boolean]>([
    ['RS256', false],
    ['PS256', false],
    ['ES256', true],
    ['EdDSA', true],
  ])('%s is checked on the thread pool: %s', async (alg, offThread) => {
    const spy = jest.spyOn(crypto, 'verify');
    await verifyJwsSignature(
      tokenFor(alg as keyof typeof KEYS),
      alg,
      KEYS[alg as keyof typeof KEYS].publicKey,
    );
    expect(spy).toHaveBeenCalledTimes(1);
    // The callback form (five arguments) runs on libuv's thread pool.
    expect(typeof spy.mock.calls[0][4] === 'function').toBe(offThread);
  });

  it('a key that cannot check the algorithm rejects rather than answering true', async () => {
    await expect(
      verifyJwsSignature(tokenFor('RS256'), 'RS256', KEYS.EdDSA.publicKey),
    ).rejects.toThrow();
  });
});
