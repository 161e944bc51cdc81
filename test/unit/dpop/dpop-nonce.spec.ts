import { DpopNonces } from '../../../lib/dpop/dpop-nonce';

const NOW = 1_800_000_000;
const OLD = Buffer.alloc(32, 1);
const NEW = Buffer.alloc(32, 2);

describe('DpopNonces (stateless, HMAC-protected)', () => {
  const nonces = new DpopNonces([NEW, OLD], 300);

  it('issues base64url nonces (NQCHAR) that any instance with the secrets accepts within the lifetime', () => {
    const nonce = nonces.issue(NOW);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(new DpopNonces([NEW], 300).accepts(nonce, NOW + 299)).toBe(true);
    expect(nonces.accepts(nonce, NOW + 300)).toBe(false);
    expect(nonces.accepts(nonce, NOW - 6)).toBe(false); // from an instance far ahead
  });

  it('accepts nonces of the previous secret during a rotation, not of an unknown one', () => {
    const before = new DpopNonces([OLD], 300).issue(NOW);
    expect(nonces.accepts(before, NOW + 1)).toBe(true);
    expect(new DpopNonces([NEW], 300).accepts(before, NOW + 1)).toBe(false);
    expect(new DpopNonces([Buffer.alloc(32, 3)], 300).accepts(nonces.issue(NOW), NOW)).toBe(false);
  });

  it('refuses forged, truncated and non-string nonces', () => {
    const nonce = nonces.issue(NOW);
    const bytes = Buffer.from(nonce, 'base64url');
    bytes.writeBigUInt64BE(BigInt(NOW + 100)); // a later time under the old tag
    for (const forged of [
      bytes.toString('base64url'),
      nonce.slice(1),
      `${nonce}A`,
      7,
      undefined,
      '',
    ]) {
      expect(nonces.accepts(forged, NOW)).toBe(false);
    }
  });
});
