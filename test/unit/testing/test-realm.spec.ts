import { VoxKeyTestRealm } from '../../../lib/testing/index';
import { rawRequest } from '../../support/raw-http';
import { payloadOf } from '../../support/token-forge';

describe('VoxKeyTestRealm', () => {
  let realm: VoxKeyTestRealm;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start({ audience: 'https://api.example.test' });
  });
  afterAll(async () => realm?.close());

  it('serves its JWKS at the realm path on 127.0.0.1 and counts requests', async () => {
    expect(realm.domain).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(realm.endpoints.jwksUri);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { keys: { kid: string; use: string; d?: string }[] };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kid: realm.currentKid, use: 'sig', alg: 'RS256' });
    expect(body.keys[0].d).toBeUndefined();
    expect(realm.jwksRequests).toBe(1);
  });

  it('mints tokens with defaults, overrides and removals', () => {
    const claims = payloadOf(
      realm.mint({ scope: ['a', 'b'], subject: 's', claims: { jti: undefined, extra: 1 } }),
    );
    expect(claims).toMatchObject({
      iss: realm.issuer,
      aud: 'https://api.example.test',
      scope: 'a b',
      sub: 's',
      extra: 1,
    });
    expect(claims).not.toHaveProperty('jti');
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);
  });

  it('answers a malformed request target with 400 and keeps serving', async () => {
    const port = Number(new URL(realm.domain).port);
    const res = await rawRequest(port, ['GET http://[ HTTP/1.1', 'Host: 127.0.0.1']);
    expect(res.status).toBe(400);
    expect((await fetch(realm.endpoints.jwksUri)).status).toBe(200);
  });

  it('plays an unavailable JWKS endpoint', async () => {
    realm.jwksAvailable = false;
    expect((await fetch(realm.endpoints.jwksUri)).status).toBe(503);
    realm.jwksAvailable = true;
  });

  it('rotates keys, keeping or withdrawing the previous ones', () => {
    const first = realm.currentKid;
    const second = realm.rotateKeys();
    expect(realm.jwks.keys.map((k) => k.kid)).toEqual([first, second]);
    const third = realm.rotateKeys({ keepPrevious: false });
    expect(realm.jwks.keys.map((k) => k.kid)).toEqual([third]);
    expect(() => realm.mint({ kid: first })).not.toThrow();
    expect(() => realm.mint({ kid: 'nope' })).toThrow('no key with kid nope');
  });
});
