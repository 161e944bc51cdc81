import type { ResolvedVoxKeyOptions } from '../../../lib/index';
import { passesCsrfCheck, readRequestCredentials } from '../../../lib/token/token-location';
import { MAX_TOKEN_LENGTH } from '../../../lib/voxkey.constants';

type Location = ResolvedVoxKeyOptions['tokenLocation'];
const ORIGINS = { origins: ['https://app.example.com'] } as const;
const cookieOnly = (csrf: NonNullable<Location['cookie']>['csrf'] = ORIGINS): Location => ({
  header: true,
  cookie: { name: 'vx', csrf },
});
const headerOnly: Location = { header: true, cookie: undefined };

const post = (headers: Record<string, string | string[] | undefined>) => ({
  method: 'POST',
  headers,
});

describe('readRequestCredentials', () => {
  it('reads only the Authorization header by default, never the cookie', () => {
    expect(readRequestCredentials(post({ cookie: 'vx=abc' }), headerOnly)).toEqual({
      kind: 'missing',
    });
    expect(
      readRequestCredentials(post({ authorization: 'Bearer abc', cookie: 'vx=def' }), headerOnly),
    ).toEqual({ kind: 'token', token: 'abc' });
  });

  it('reads the cookie token, marked as from the cookie', () => {
    const request = post({ cookie: 'a=1; vx=a.b.c', origin: 'https://app.example.com' });
    expect(readRequestCredentials(request, cookieOnly())).toEqual({
      kind: 'token',
      token: 'a.b.c',
      fromCookie: true,
    });
  });

  it('still reads the header when the cookie is configured but absent', () => {
    expect(readRequestCredentials(post({ authorization: 'Bearer abc' }), cookieOnly())).toEqual({
      kind: 'token',
      token: 'abc',
    });
    expect(readRequestCredentials(post({ cookie: 'other=1' }), cookieOnly())).toEqual({
      kind: 'missing',
    });
  });

  it.each([
    ['different tokens', 'Bearer abc', 'vx=def'],
    ['the same token twice', 'Bearer abc', 'vx=abc'],
    ['a header token and a malformed cookie', 'Bearer abc', 'vx="x"'],
  ])('%s in the header and the cookie are invalid_request (one method per request)', (_n, a, c) => {
    const request = post({ authorization: a, cookie: c, origin: 'https://app.example.com' });
    expect(readRequestCredentials(request, cookieOnly())).toEqual({
      kind: 'malformed',
      detail: 'a token in both the Authorization header and the cookie',
      description: 'The access token was sent in more than one way',
    });
  });

  it('a malformed header wins over the cookie', () => {
    const request = post({ authorization: 'Bearer a b', cookie: 'vx=abc' });
    expect(readRequestCredentials(request, cookieOnly())).toMatchObject({
      kind: 'malformed',
      detail: 'more than one credential after the scheme',
    });
  });

  it('with header: false, ignores the Authorization header entirely', () => {
    const location: Location = { ...cookieOnly(), header: false };
    const get = { method: 'GET', headers: { authorization: 'Bearer abc' } };
    expect(readRequestCredentials(get, location)).toEqual({ kind: 'missing' });
    const both = { method: 'GET', headers: { authorization: 'Bearer a b', cookie: 'vx=def' } };
    expect(readRequestCredentials(both, location)).toEqual({
      kind: 'token',
      token: 'def',
      fromCookie: true,
    });
  });

  it.each([
    ['a duplicate name', 'vx=abc; vx=def', 'the token cookie is sent twice'],
    ['a quoted value', 'vx="abc"', 'the token cookie is not a b64token'],
    ['a percent-encoded value', 'vx=a%2Eb', 'the token cookie is not a b64token'],
    ['junk after the token', 'vx=abc def', 'the token cookie is not a b64token'],
    ['padding inside', 'vx=ab=c', 'the token cookie is not a b64token'],
  ])('%s is invalid_request with a cookie description', (_n, cookie, detail) => {
    const request = { method: 'GET', headers: { cookie } };
    expect(readRequestCredentials(request, cookieOnly())).toEqual({
      kind: 'malformed',
      detail,
      description: 'The access token cookie is malformed',
    });
  });

  it('an empty cookie value is no token', () => {
    expect(
      readRequestCredentials({ method: 'GET', headers: { cookie: 'vx=' } }, cookieOnly()),
    ).toEqual({ kind: 'missing' });
  });

  it('the token length cap applies to the cookie', () => {
    const at = (n: number) => ({ method: 'GET', headers: { cookie: `vx=${'a'.repeat(n)}` } });
    expect(readRequestCredentials(at(MAX_TOKEN_LENGTH), cookieOnly())).toMatchObject({
      kind: 'token',
    });
    expect(readRequestCredentials(at(MAX_TOKEN_LENGTH + 1), cookieOnly())).toEqual({
      kind: 'too_large',
    });
  });

  it('a cookie token failing the CSRF check is cross_site', () => {
    const request = post({ cookie: 'vx=abc', origin: 'https://evil.example' });
    expect(readRequestCredentials(request, cookieOnly())).toEqual({ kind: 'cross_site' });
  });

  it('the CSRF check does not apply to a header token', () => {
    const request = post({ authorization: 'Bearer abc', origin: 'https://evil.example' });
    expect(readRequestCredentials(request, cookieOnly())).toEqual({ kind: 'token', token: 'abc' });
  });
});

describe('passesCsrfCheck', () => {
  it.each(['GET', 'HEAD', 'OPTIONS'])('lets the safe method %s through unchecked', (method) => {
    expect(passesCsrfCheck({ method, headers: { origin: 'https://evil.example' } }, ORIGINS)).toBe(
      true,
    );
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'get', undefined])('checks %s', (method) => {
    expect(passesCsrfCheck({ method, headers: {} }, ORIGINS)).toBe(false);
  });

  it.each([
    [{ origin: 'https://app.example.com' }, true],
    [{ origin: 'https://evil.example' }, false],
    [{ origin: 'https://app.example.com.evil.example' }, false],
    [{ origin: 'https://APP.example.com' }, false],
    [{ origin: 'http://app.example.com' }, false],
    [{ origin: 'https://app.example.com:443' }, false],
    [{ origin: 'null' }, false],
    [{ origin: 'https://app.example.com, https://evil.example' }, false],
    [{ origin: ['https://app.example.com'] }, false],
    [{}, false],
    [{ 'sec-fetch-site': 'same-origin' }, true],
    [{ 'sec-fetch-site': 'same-site' }, false],
    [{ 'sec-fetch-site': 'cross-site' }, false],
    [{ 'sec-fetch-site': 'none' }, false],
  ])('origins mode: %j passes: %s', (headers, passes) => {
    expect(passesCsrfCheck(post(headers), ORIGINS)).toBe(passes);
  });

  it.each([
    [{ 'x-requested-with': 'XMLHttpRequest' }, true],
    [{ 'x-requested-with': '' }, true],
    [{ origin: 'https://app.example.com' }, false],
    [{ 'sec-fetch-site': 'same-origin' }, false],
    [{}, false],
  ])('header mode: %j passes: %s', (headers, passes) => {
    expect(passesCsrfCheck(post(headers), { header: 'x-requested-with' })).toBe(passes);
  });

  it('a request without headers fails closed', () => {
    expect(passesCsrfCheck({ method: 'POST' }, ORIGINS)).toBe(false);
    expect(passesCsrfCheck({ method: 'POST' }, { header: 'x-requested-with' })).toBe(false);
  });
});
