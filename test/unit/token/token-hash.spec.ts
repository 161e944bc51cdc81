import { hashToken } from '../../../lib/token/token-hash';

describe('token hashing', () => {
  it('never keeps the raw token', () => {
    const token = 'secret.token.value';
    expect(hashToken(token)).not.toContain('secret');
    expect(hashToken(token)).toHaveLength(43);
  });
});
