import type { INestApplication } from '@nestjs/common';
import { generateKeyPairSync, sign } from 'node:crypto';
import request from 'supertest';
import { VoxKeyModule } from '../../lib/index';
import { VerifiedTokenCache } from '../../lib/cache/verified-token.cache';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { createApp, PLATFORMS } from '../support/app';
import { CONTROLLERS } from '../support/routes';
import { b64url, payloadOf } from '../support/token-forge';

/** An Ed25519 realm (RFC 8037): its JWKS holds OKP keys and its tokens are signed with EdDSA. */
describe.each(PLATFORMS)('an EdDSA (Ed25519) realm on %s', (platform) => {
  let realm: VoxKeyTestRealm;
  let app: INestApplication;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start({ algorithm: 'EdDSA' });
    app = await createApp(
      platform,
      [VoxKeyModule.forRoot(realm.moduleOptions({ algorithms: ['EdDSA'] }))],
      CONTROLLERS,
    );
  });
  afterAll(async () => {
    await app?.close();
    await realm?.close();
  });
  const get = (path: string, token: string) =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

  it('serves OKP keys from the JWKS', () => {
    expect(realm.jwks.keys).toEqual([
      expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' }),
    ]);
  });

  it('accepts a token the realm signed, with its claims as the user', async () => {
    const res = await get('/me', realm.mint({ scope: 'read:posts', subject: 'ed-user' }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sub: 'ed-user', iss: realm.issuer, scope: 'read:posts' });
    expect((await get('/posts', realm.mint({ scope: 'read:posts' }))).status).toBe(200);
  });

  it('refuses a tampered payload (signature)', async () => {
    const [header, , signature] = realm.mint().split('.');
    const forged = `${header}.${b64url({ ...payloadOf(realm.mint()), sub: 'admin' })}.${signature}`;
    const res = await get('/open', forged);
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('The access token signature is invalid');
  });

  it('refuses a token signed by another Ed25519 key under the realm kid', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const [header, payload] = realm.mint().split('.');
    const signature = sign(null, Buffer.from(`${header}.${payload}`), privateKey);
    const res = await get('/open', `${header}.${payload}.${signature.toString('base64url')}`);
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('The access token signature is invalid');
  });

  it('refuses an RS256 token, not in the allow-list', async () => {
    expect((await get('/open', realm.mint({ header: { alg: 'RS256' } }))).body.message).toBe(
      'The access token algorithm is not accepted',
    );
  });

  it('the cache answers a token seen before, with the same claims', async () => {
    const cache = app.get(VerifiedTokenCache);
    const token = realm.mint({ subject: 'again' });
    const first = await get('/me', token);
    const hits = cache.stats.hits;
    const second = await get('/me', token);
    expect(first.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(cache.stats.hits).toBe(hits + 1);
  });
});

describe('an Ed25519 key never verifies a token that claims another algorithm', () => {
  let realm: VoxKeyTestRealm;
  let app: INestApplication;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start({ algorithm: 'EdDSA' });
    app = await createApp(
      'express',
      [VoxKeyModule.forRoot(realm.moduleOptions({ algorithms: ['EdDSA', 'ES256', 'RS256'] }))],
      CONTROLLERS,
    );
  });
  afterAll(async () => {
    await app?.close();
    await realm?.close();
  });

  it.each(['ES256', 'RS256'])('%s under the Ed25519 kid: key_mismatch', async (alg) => {
    const res = await request(app.getHttpServer())
      .get('/open')
      .set('Authorization', `Bearer ${realm.mint({ header: { alg } })}`);
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('The access token signing key does not match its algorithm');
  });
});
