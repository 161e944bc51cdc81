import {
  bearerTokenFromRequest,
  getExtractedToken,
  getVerifyingKey,
  setExtractedToken,
  setVerifyingKey,
} from '../../lib/jwt/request-token';

describe('request notes (extracted token, verifying key)', () => {
  it('are kept beside the request, never as properties on it (a property add costs 2–3 µs on Express)', () => {
    const request = { headers: { authorization: 'Bearer a.b.c' } };
    const before = Reflect.ownKeys(request);
    const key = {};
    setExtractedToken(request, 'a.b.c');
    setVerifyingKey(request, key);
    expect(Reflect.ownKeys(request)).toEqual(before);
    expect(getExtractedToken(request)).toBe('a.b.c');
    expect(getVerifyingKey(request)).toBe(key);
  });

  it('belong to one request object only', () => {
    const one = {};
    const other = {};
    setExtractedToken(one, 'x.y.z');
    expect(getExtractedToken(other)).toBeUndefined();
    expect(getVerifyingKey(one)).toBeUndefined();
  });

  it('the extracted token wins over the header for passport-jwt; without it the strict parser reads the header', () => {
    const noted = { headers: { authorization: 'Bearer h.h.h' } };
    setExtractedToken(noted, 'n.n.n');
    expect(bearerTokenFromRequest(noted)).toBe('n.n.n');
    expect(bearerTokenFromRequest({ headers: { authorization: 'Bearer h.h.h' } })).toBe('h.h.h');
    expect(bearerTokenFromRequest({ headers: { authorization: 'Bearer h.h.h extra' } })).toBeNull();
  });

  it('are shared through globalThis, so a second copy of the library (CJS beside ESM) sees them', () => {
    const registry = globalThis as Record<symbol, unknown>;
    const tokens = registry[Symbol.for('voxkey:request-token')];
    const keys = registry[Symbol.for('voxkey:verifying-key')];
    expect(tokens).toBeInstanceOf(WeakMap);
    expect(keys).toBeInstanceOf(WeakMap);
    const request = {};
    const key = {};
    setExtractedToken(request, 't.t.t');
    setVerifyingKey(request, key);
    expect((tokens as WeakMap<object, string>).get(request)).toBe('t.t.t');
    expect((keys as WeakMap<object, object>).get(request)).toBe(key);
  });
});
