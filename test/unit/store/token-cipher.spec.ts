import { TokenCipher } from '../../../lib/store/token-cipher';

describe('TokenCipher', () => {
  const cipher = new TokenCipher(Buffer.alloc(32, 9));
  it('opens what it sealed, only under the same store key', () => {
    const sealed = cipher.seal('secret-token', 'k1');
    expect(sealed).not.toContain('secret-token');
    expect(cipher.open(sealed, 'k1')).toBe('secret-token');
    expect(cipher.open(sealed, 'k2')).toBeUndefined();
    expect(new TokenCipher(Buffer.alloc(32, 1)).open(sealed, 'k1')).toBeUndefined();
  });
  it('refuses a truncated authentication tag or a tampered body', () => {
    const [v, iv, body, tag] = cipher.seal('secret-token', 'k').split('.');
    expect(cipher.open([v, iv, body, tag.slice(0, 6)].join('.'), 'k')).toBeUndefined();
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] ^= 1;
    expect(cipher.open([v, iv, flipped.toString('base64url'), tag].join('.'), 'k')).toBeUndefined();
  });
  it('never reuses an IV', () => {
    expect(cipher.seal('x', 'k').split('.')[1]).not.toBe(cipher.seal('x', 'k').split('.')[1]);
  });
});
