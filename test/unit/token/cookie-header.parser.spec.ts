import { findCookie } from '../../../lib/token/cookie-header.parser';

describe('findCookie (RFC 6265 §4.2.1)', () => {
  it.each([
    ['vx=abc', 'abc'],
    ['a=1; vx=abc; b=2', 'abc'],
    ['a=1;vx=abc;b=2', 'abc'],
    ['  vx = abc  ', 'abc'],
    ['a=1;\tvx=abc', 'abc'],
    ['vx=a.b.c==', 'a.b.c=='],
    ['vx=abc; vxx=def; xvx=ghi', 'abc'],
    ['flag; vx=abc', 'abc'],
    ['vx=', ''],
    ['vx=abc;', 'abc'],
  ])('%j gives %j', (header, value) => {
    expect(findCookie(header, 'vx')).toEqual({ kind: 'value', value });
  });

  it('keeps the value raw: no unquoting, no percent-decoding', () => {
    expect(findCookie('vx="abc"', 'vx')).toEqual({ kind: 'value', value: '"abc"' });
    expect(findCookie('vx=a%2Fb', 'vx')).toEqual({ kind: 'value', value: 'a%2Fb' });
  });

  it.each([undefined, '', ';;;', 'vx', 'VX=abc', 'vxx=abc', 'a=vx=abc', 'a=1; b=2'])(
    '%j has no cookie vx',
    (header) => {
      expect(findCookie(header, 'vx')).toEqual({ kind: 'absent' });
    },
  );

  it.each(['vx=a; vx=b', 'vx=a; vx=a', 'vx=; vx=b', 'vx=a;vx=b', 'a=1; vx=a; b=2; vx=b'])(
    '%j holds the name twice: a duplicate, never "first wins"',
    (header) => {
      expect(findCookie(header, 'vx')).toEqual({ kind: 'duplicate' });
    },
  );

  it('reads several header values as one list (a duplicate across them too)', () => {
    expect(findCookie(['a=1', 'vx=abc'], 'vx')).toEqual({ kind: 'value', value: 'abc' });
    expect(findCookie(['vx=a', 'vx=b'], 'vx')).toEqual({ kind: 'duplicate' });
  });

  it('reads a long header of pairs without "=" (each pair is searched for "=" on its own)', () => {
    // Searching the rest of the header for "=" at each pair would be quadratic here.
    expect(findCookie(`${';x'.repeat(100_000)};vx=abc`, 'vx')).toEqual({
      kind: 'value',
      value: 'abc',
    });
  });
});
