import { basicAuthorization, formEncode } from '../../../lib/realm/realm-http.client';

describe('client_secret_basic encoding (RFC 6749 §2.3.1)', () => {
  it('form-encodes before joining and base64-encoding', () => {
    expect(formEncode('a b+c:d%e/é')).toBe('a+b%2Bc%3Ad%25e%2F%C3%A9');
    const header = basicAuthorization({ clientId: 'id:1', clientSecret: 'sec ret+/é' });
    expect(Buffer.from(header.slice(6), 'base64').toString()).toBe('id%3A1:sec+ret%2B%2F%C3%A9');
    expect(header.startsWith('Basic ')).toBe(true);
  });
});
