import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bearerTokenFromRequest,
  countAuthorizationHeaders,
  parseB64Token,
  parseBearerHeader,
  readBearerCredentials,
} from '../../../lib/token/bearer-header.parser';
import { MAX_TOKEN_LENGTH } from '../../../lib/voxkey.constants';

describe('parseBearerHeader (RFC 6750 §2.1)', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc.def.ghi', 'abc.def.ghi'],
    ['BEARER abc', 'abc'],
    ['Bearer    abc', 'abc'],
    ['  Bearer abc  ', 'abc'],
    ['Bearer a-b_c~d+e/f.g', 'a-b_c~d+e/f.g'],
    ['Bearer abc==', 'abc=='],
  ])('%j gives the token %j', (header, token) => {
    expect(parseBearerHeader(header)).toEqual({ kind: 'token', token });
  });

  it.each([
    ['DPoP abc.def.ghi', 'abc.def.ghi'],
    ['dpop abc', 'abc'],
    ['DPOP   abc  ', 'abc'],
  ])(
    'with the DPoP scheme accepted, %j gives the DPoP token %j (RFC 9449 §7.1)',
    (header, token) => {
      expect(parseBearerHeader(header, true)).toEqual({ kind: 'token', token, dpop: true });
    },
  );

  it('with the DPoP scheme accepted, still reads Bearer as Bearer and refuses a malformed DPoP value', () => {
    expect(parseBearerHeader('Bearer abc', true)).toEqual({ kind: 'token', token: 'abc' });
    expect(parseBearerHeader('DPoP', true)).toEqual({
      kind: 'malformed',
      detail: 'empty credentials after the scheme',
    });
    expect(parseBearerHeader('DPoP a b', true)).toMatchObject({ kind: 'malformed' });
    expect(parseBearerHeader('DPoPabc', true)).toEqual({ kind: 'missing' });
    expect(parseBearerHeader(`DPoP ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`, true)).toEqual({
      kind: 'too_large',
    });
  });

  it.each([undefined, '', '   ', 'Basic abc', 'Digest x', 'Bearerabc', 'Bear abc', 'DPoP abc'])(
    '%j has no Bearer credentials',
    (header) => {
      expect(parseBearerHeader(header)).toEqual({ kind: 'missing' });
    },
  );

  it.each([
    ['Bearer', 'empty credentials after the scheme'],
    ['Bearer   ', 'empty credentials after the scheme'],
    ['Bearer abc def', 'more than one credential after the scheme'],
    ['Bearer abc Bearer def', 'more than one credential after the scheme'],
    ['Bearer abc,def', 'character outside the b64token set'],
    ['Bearer abc=def', 'character outside the b64token set'],
    ['Bearer ab"c', 'character outside the b64token set'],
    ['Bearer =abc', 'credentials are not a b64token'],
    ['Bearer ,abc', 'credentials are not a b64token'],
    ['Bearer\tabc', 'the scheme is not followed by a space'],
    ['Bearer abc\u00e9', 'character outside the b64token set'],
  ])('%j is malformed: %s', (header, detail) => {
    expect(parseBearerHeader(header)).toEqual({ kind: 'malformed', detail });
  });

  it('matches the scheme in ASCII case only: every casing of "Bearer", nothing that folds onto it', () => {
    // Each letter of "bearer" in both cases, and the characters one bit away from them (bit 5
    // flips ASCII case; the others are neighbours a faulty fold could let through).
    const variants = [...'bearer'].map((c) => {
      const code = c.charCodeAt(0);
      return [
        c,
        c.toUpperCase(),
        ...[0x01, 0x40, 0x80, 0x100].map((bit) => String.fromCharCode(code ^ bit)),
      ];
    });
    let checked = 0;
    const walk = (prefix: string, i: number): void => {
      if (i === 6) {
        const expected =
          [...prefix].every((c) => c.charCodeAt(0) < 128) && prefix.toLowerCase() === 'bearer';
        expect(parseBearerHeader(`${prefix} abc`)).toEqual(
          expected ? { kind: 'token', token: 'abc' } : { kind: 'missing' },
        );
        checked++;
        return;
      }
      // Every combination of cases, and each odd character in one position at a time.
      for (const c of i < 6 ? variants[i] : []) {
        if (c.toLowerCase() !== 'bearer'[i] && prefix.toLowerCase() !== 'bearer'.slice(0, i))
          continue;
        walk(prefix + c, i + 1);
      }
    };
    walk('', 0);
    expect(checked).toBeGreaterThan(64);
    // Unicode case folding is not ASCII case-insensitivity: the Kelvin sign lowers to "k".
    expect(parseBearerHeader('\u212Aey abc').kind).toBe('missing');
    expect(parseBearerHeader('B\u0435arer abc').kind).toBe('missing'); // Cyrillic е
  });

  it('a list of header values is malformed', () => {
    expect(parseBearerHeader(['Bearer a', 'Bearer b'])).toEqual({
      kind: 'malformed',
      detail: 'several Authorization values',
    });
  });

  it('caps the token length', () => {
    expect(parseBearerHeader(`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH)}`).kind).toBe('token');
    expect(parseBearerHeader(`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`)).toEqual({
      kind: 'too_large',
    });
    // A header far over the cap is refused before it is scanned at all.
    expect(parseBearerHeader(`Bearer ${' '.repeat(1_000_000)}x y`)).toEqual({ kind: 'too_large' });
  });

  it('uses no regular expression that could backtrack: only runs of single character classes', () => {
    const source = readFileSync(
      join(__dirname, '../../../lib/token/bearer-header.parser.ts'),
      'utf8',
    );
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/RegExp\(|\.match\(|\.replace\(|\.split\(/);
    const literals = code.match(/= \/.+\/[a-z]*;/g) ?? [];
    expect(literals).toEqual(['= /[A-Za-z0-9\\-._~+/]+=*/y;']);
  });

  it('reads a b64token at any offset and stops at the first character outside the set', () => {
    const token = `${'a'.repeat(4000)}.b-c_d~e+f/g==`;
    expect(parseBearerHeader(`   Bearer    ${token}`)).toEqual({ kind: 'token', token });
    expect(parseBearerHeader(`Bearer ${token}!`)).toMatchObject({ kind: 'malformed' });
    expect(parseBearerHeader(`Bearer ${token}=a`)).toMatchObject({ kind: 'malformed' });
    expect(parseBearerHeader(`Bearer =abc`)).toMatchObject({ kind: 'malformed' });
  });
});

describe('parseB64Token (a raw token, e.g. a cookie value)', () => {
  it.each(['abc', 'a.b.c', 'a-b_c~d+e/f.g', 'abc=='])('%j is a token', (value) => {
    expect(parseB64Token(value)).toEqual({ kind: 'token', token: value });
  });

  it.each(['', '=abc', 'ab=c', 'a b', ' abc', 'abc ', '"abc"', 'a%2Eb', 'a,b', 'Bearer abc'])(
    '%j is malformed',
    (value) => {
      expect(parseB64Token(value)).toEqual({
        kind: 'malformed',
        detail: 'the token is not a b64token',
      });
    },
  );

  it('caps the length before scanning', () => {
    expect(parseB64Token('a'.repeat(MAX_TOKEN_LENGTH))).toMatchObject({ kind: 'token' });
    expect(parseB64Token(`${'a'.repeat(MAX_TOKEN_LENGTH)}"`)).toEqual({ kind: 'too_large' });
  });
});

describe('countAuthorizationHeaders', () => {
  it('counts Authorization fields in any casing', () => {
    expect(countAuthorizationHeaders(undefined)).toBe(0);
    expect(countAuthorizationHeaders(['Host', 'x', 'Authorization', 'a'])).toBe(1);
    expect(
      countAuthorizationHeaders(['authorization', 'a', 'AUTHORIZATION', 'b', 'Accept', 'c']),
    ).toBe(2);
  });
});

describe('readBearerCredentials', () => {
  it('reads the one Authorization field of an Express or Fastify request', () => {
    expect(readBearerCredentials({ headers: { authorization: 'Bearer a.b.c' } })).toEqual({
      kind: 'token',
      token: 'a.b.c',
    });
    expect(
      readBearerCredentials({
        headers: { authorization: 'Bearer a.b.c' },
        raw: { rawHeaders: ['Authorization', 'Bearer a.b.c'] },
      }),
    ).toEqual({ kind: 'token', token: 'a.b.c' });
    expect(readBearerCredentials({})).toEqual({ kind: 'missing' });
  });

  it('refuses several Authorization fields, whatever Node kept of them', () => {
    const rawHeaders = ['Authorization', 'Bearer a.b.c', 'authorization', 'Bearer d.e.f'];
    const headers = { authorization: 'Bearer a.b.c' };
    expect(readBearerCredentials({ headers, rawHeaders })).toMatchObject({ kind: 'malformed' });
    expect(readBearerCredentials({ headers, raw: { rawHeaders } })).toMatchObject({
      kind: 'malformed',
    });
    expect(bearerTokenFromRequest({ headers, rawHeaders })).toBeNull();
    expect(bearerTokenFromRequest({ headers })).toBe('a.b.c');
  });
});
