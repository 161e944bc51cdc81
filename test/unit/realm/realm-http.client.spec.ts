import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { basicAuthorization, formEncode } from '../../../lib/realm/realm-http.client';

describe('client_secret_basic encoding (RFC 6749 §2.3.1)', () => {
  it('form-encodes before joining and base64-encoding', () => {
    expect(formEncode('a b+c:d%e/é')).toBe('a+b%2Bc%3Ad%25e%2F%C3%A9');
    const header = basicAuthorization({ clientId: 'id:1', clientSecret: 'sec ret+/é' });
    expect(Buffer.from(header.slice(6), 'base64').toString()).toBe('id%3A1:sec+ret%2B%2F%C3%A9');
    expect(header.startsWith('Basic ')).toBe(true);
  });
});

describe('RealmHttpClient timeouts', () => {
  it('a request with a caller signal still times out while the garbage collector runs', () => {
    // Node 20's AbortSignal.any holds its inputs weakly; the client keeps its timeout alive.
    const output = execFileSync(
      process.execPath,
      [
        '--expose-gc',
        '-r',
        join(__dirname, '../../support/ts-register.cjs'),
        join(__dirname, '../../support/timeout-under-gc.ts'),
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(JSON.parse(output.trim())).toEqual({ outcome: 'failed', error: 'timeout' });
  });
});
