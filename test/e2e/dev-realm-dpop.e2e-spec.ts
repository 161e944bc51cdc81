import { X509Certificate } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, decodeProtectedHeader } from 'jose';
import { DevRealm } from '../../sample/dev-realm/dev-realm';
import { createDpopKey, dpopRequest, requestDpopToken } from '../support/dpop-client';
import { athOf, buildProof, jwkThumbprint } from '../support/dpop-proof';
import { freePort } from '../support/free-port';
import { certificateThumbprint, MTLS, mtlsRequest } from '../support/mtls';
import {
  basicAuthorization,
  JWT_RESOURCE,
  M2M_CLIENT,
  MTLS_CLIENT,
  OidcRealm,
  OPAQUE_RESOURCE,
} from '../support/oidc-realm';
import { payloadOf } from '../support/token-forge';

// The development realm issuing sender-constrained tokens (RFC 9449 DPoP, RFC 8705 mTLS) to an
// independent client (oauth4webapi) and to hand-made requests, for the library's e2e tests.
/** A client credentials request with a hand-made `DPoP` header. */
async function tokenWithProof(realm: OidcRealm, proof: string) {
  const response = await fetch(`${realm.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basicAuthorization(M2M_CLIENT),
      dpop: proof,
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'read:posts',
      resource: JWT_RESOURCE,
    }),
  });
  return {
    status: response.status,
    nonce: response.headers.get('dpop-nonce'),
    body: (await response.json()) as Record<string, string>,
  };
}

async function discovery(realm: OidcRealm): Promise<Record<string, unknown>> {
  return (await fetch(`${realm.issuer}/.well-known/openid-configuration`)).json() as Promise<
    Record<string, unknown>
  >;
}

describe('the development realm with dpop and mtls', () => {
  let realm: OidcRealm;

  beforeAll(async () => {
    realm = await OidcRealm.start({ dpop: true, mtls: true });
  });
  afterAll(async () => realm?.close());

  it('advertises DPoP, its algorithms, certificate-bound tokens and the mTLS endpoints', async () => {
    const metadata = await discovery(realm);
    expect(metadata.dpop_signing_alg_values_supported).toEqual(['ES256', 'Ed25519', 'EdDSA']);
    expect(metadata.tls_client_certificate_bound_access_tokens).toBe(true);
    const aliases = realm.mtlsEndpointAliases!;
    expect(metadata.mtls_endpoint_aliases).toEqual(aliases);
    expect(aliases.token_endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/oauth2\/[^/]+\/token$/);
    expect(metadata.token_endpoint).toBe(`${realm.issuer}/token`);
  });

  it.each(['ES256', 'Ed25519', 'EdDSA'])(
    'issues a DPoP-bound JWT to oauth4webapi with a %s key: cnf.jkt is the key thumbprint',
    async (alg) => {
      const key = await createDpopKey(alg);
      const response = await requestDpopToken(realm.issuer, M2M_CLIENT, key, {
        scope: 'read:posts',
        resource: JWT_RESOURCE,
      });
      expect(response).toMatchObject({ tokenType: 'DPoP', scope: 'read:posts', attempts: 1 });
      const token = response.accessToken;
      expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
      const claims = payloadOf(token);
      expect(claims).toMatchObject({
        iss: realm.issuer,
        aud: JWT_RESOURCE,
        client_id: 'm2m-client',
      });
      // By hand (RFC 7638), by jose, and as oauth4webapi computed it.
      const thumbprint = jwkThumbprint(key.publicJwk);
      expect(claims.cnf).toEqual({ jkt: thumbprint });
      expect(await calculateJwkThumbprint(key.publicJwk as never)).toBe(thumbprint);
      expect(key.jkt).toBe(thumbprint);
    },
  );

  it('issueDpopToken gets a bound token and does not count the request', async () => {
    const before = realm.counts.token;
    const { token, key } = await realm.issueDpopToken({ scope: 'read:posts write:posts' });
    expect(payloadOf(token)).toMatchObject({
      scope: 'read:posts write:posts',
      cnf: { jkt: jwkThumbprint(key.publicJwk) },
    });
    expect(realm.counts.token).toBe(before);
  });

  it("the realm's introspection of a DPoP-bound JWT says DPoP and carries cnf.jkt (RFC 9449 §6.2)", async () => {
    const { token, key } = await realm.issueDpopToken();
    expect(await realm.introspect(token)).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt: key.jkt },
    });
  });

  it("oidc-provider's introspection of an opaque DPoP-bound token carries cnf.jkt", async () => {
    const { token, key } = await realm.issueDpopToken({ resource: OPAQUE_RESOURCE });
    expect(token.split('.')).toHaveLength(1);
    expect(await realm.introspect(token)).toMatchObject({
      active: true,
      aud: OPAQUE_RESOURCE,
      token_type: 'DPoP',
      cnf: { jkt: key.jkt },
    });
  });

  it('accepts a hand-made proof, and refuses it replayed, altered, private, stale or misdirected', async () => {
    const key = await createDpopKey();
    const htu = `${realm.issuer}/token`;
    const proof = buildProof({ key, htm: 'POST', htu });
    const first = await tokenWithProof(realm, proof);
    expect(first.status).toBe(200);
    expect(first.body.token_type).toBe('DPoP');
    expect(payloadOf(first.body.access_token).cnf).toEqual({ jkt: key.jkt });
    // oidc-provider answers a replayed proof (same jti) with invalid_grant.
    expect(await tokenWithProof(realm, proof)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    const refused = [
      buildProof({ key, htm: 'POST', htu, tamperedClaims: { jti: 'other' } }),
      buildProof({ key, htm: 'POST', htu: `${realm.issuer}/introspect` }),
      buildProof({ key, htm: 'GET', htu }),
      buildProof({ key, htm: 'POST', htu, header: { jwk: key.privateJwk } }),
      buildProof({ key, htm: 'POST', htu, header: { typ: 'JWT' } }),
      buildProof({ key, htm: 'POST', htu, now: Math.floor(Date.now() / 1000) - 400 }),
    ];
    for (const bad of refused) {
      expect(await tokenWithProof(realm, bad)).toMatchObject({
        status: 400,
        body: { error: 'invalid_dpop_proof' },
      });
    }
  });

  it('refuses a proof signed with an algorithm outside its list (ES384)', async () => {
    const key = await createDpopKey('ES384');
    await expect(
      requestDpopToken(realm.issuer, M2M_CLIENT, key, { resource: JWT_RESOURCE }),
    ).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it.each([
    ['client A', MTLS.clientA],
    ['client B', MTLS.clientB],
  ])(
    'issues a token bound to the certificate of %s: cnf["x5t#S256"] is its DER SHA-256',
    async (_name, certificate) => {
      const token = await realm.issueCertBoundToken({ certificate });
      const claims = payloadOf(token);
      expect(claims).toMatchObject({
        iss: realm.issuer,
        aud: JWT_RESOURCE,
        client_id: 'mtls-client',
      });
      expect(claims.cnf).toEqual({ 'x5t#S256': certificateThumbprint(certificate.cert) });
      expect(await realm.introspect(token)).toMatchObject({
        active: true,
        token_type: 'Bearer',
        cnf: { 'x5t#S256': certificateThumbprint(certificate.cert) },
      });
    },
  );

  it("certificateThumbprint is Node's fingerprint256 in base64url, and differs between clients", () => {
    for (const { cert } of [MTLS.clientA, MTLS.clientB]) {
      const hex = new X509Certificate(cert).fingerprint256.replaceAll(':', '');
      expect(certificateThumbprint(cert)).toBe(Buffer.from(hex, 'hex').toString('base64url'));
    }
    expect(certificateThumbprint(MTLS.clientA.cert)).not.toBe(
      certificateThumbprint(MTLS.clientB.cert),
    );
  });

  it("oidc-provider's introspection of an opaque certificate-bound token carries cnf", async () => {
    const token = await realm.issueCertBoundToken({ resource: OPAQUE_RESOURCE });
    expect(await realm.introspect(token)).toMatchObject({
      active: true,
      token_type: 'Bearer',
      cnf: { 'x5t#S256': certificateThumbprint(MTLS.clientA.cert) },
    });
  });

  it('gives the certificate-bound client no token without a certificate, nor over plain HTTP', async () => {
    const form = new URLSearchParams({ grant_type: 'client_credentials', resource: JWT_RESOURCE });
    const noCertificate = await mtlsRequest(realm.mtlsEndpointAliases!.token_endpoint, {
      method: 'POST',
      headers: { authorization: basicAuthorization(MTLS_CLIENT) },
      body: form,
    });
    expect([noCertificate.status, JSON.parse(noCertificate.body).error]).toEqual([
      400,
      'invalid_grant',
    ]);
    const plain = await fetch(`${realm.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basicAuthorization(MTLS_CLIENT) },
      body: form,
    });
    expect(plain.status).toBe(400);
  });

  it('other clients get unbound tokens on the mTLS listener, certificate or not', async () => {
    const response = await mtlsRequest(realm.mtlsEndpointAliases!.token_endpoint, {
      client: MTLS.clientA,
      method: 'POST',
      headers: { authorization: basicAuthorization(M2M_CLIENT) },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: JWT_RESOURCE }),
    });
    expect(response.status).toBe(200);
    expect(payloadOf(JSON.parse(response.body).access_token).cnf).toBeUndefined();
  });
});

describe('the development realm with DPoP nonces and other algorithms', () => {
  let realm: OidcRealm;

  beforeAll(async () => {
    realm = await OidcRealm.start({ dpop: { nonce: true, algorithms: ['ES384', 'PS256'] } });
  });
  afterAll(async () => realm?.close());

  it('asks for a nonce (400 use_dpop_nonce), and oauth4webapi retries with it', async () => {
    const key = await createDpopKey('PS256');
    const first = await tokenWithProof(
      realm,
      buildProof({ key, htm: 'POST', htu: `${realm.issuer}/token` }),
    );
    expect([first.status, first.body.error]).toEqual([400, 'use_dpop_nonce']);
    expect(first.nonce).toMatch(/^[\w-]+$/);
    const before = realm.counts.token;
    const response = await requestDpopToken(realm.issuer, M2M_CLIENT, key, {
      resource: JWT_RESOURCE,
    });
    expect(response).toMatchObject({ tokenType: 'DPoP', attempts: 2 });
    expect(payloadOf(response.accessToken).cnf).toEqual({ jkt: key.jkt });
    expect(realm.counts.token - before).toBe(2);
    // issueDpopToken leaves both attempts out of the counts.
    await realm.issueDpopToken({ key: await createDpopKey('ES384') });
    expect(realm.counts.token - before).toBe(2);
  });

  it('accepts a hand-made proof with the nonce', async () => {
    const key = await createDpopKey('ES384');
    const htu = `${realm.issuer}/token`;
    const { nonce } = await tokenWithProof(realm, buildProof({ key, htm: 'POST', htu }));
    const { status, body } = await tokenWithProof(
      realm,
      buildProof({ key, htm: 'POST', htu, nonce: nonce! }),
    );
    expect(status).toBe(200);
    expect(payloadOf(body.access_token).cnf).toEqual({ jkt: key.jkt });
  });

  it('advertises and applies its own algorithm list', async () => {
    expect((await discovery(realm)).dpop_signing_alg_values_supported).toEqual(['ES384', 'PS256']);
    await expect(
      requestDpopToken(realm.issuer, M2M_CLIENT, await createDpopKey('ES256'), {
        resource: JWT_RESOURCE,
      }),
    ).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
  });
});

describe('the development realm without the options', () => {
  let realm: OidcRealm;

  beforeAll(async () => {
    realm = await OidcRealm.start();
  });
  afterAll(async () => realm?.close());

  it('ignores a DPoP proof: the token is a plain Bearer token', async () => {
    const key = await createDpopKey();
    const response = await requestDpopToken(realm.issuer, M2M_CLIENT, key, {
      resource: JWT_RESOURCE,
    });
    expect(response.tokenType).toBe('Bearer');
    expect(payloadOf(response.accessToken).cnf).toBeUndefined();
    expect(await realm.introspect(response.accessToken)).toMatchObject({
      active: true,
      token_type: 'Bearer',
    });
    await expect(realm.issueDpopToken()).rejects.toThrow('expected a DPoP-bound token');
  });

  it('advertises neither DPoP nor mTLS, and has no mTLS listener', async () => {
    const metadata = await discovery(realm);
    expect(metadata).not.toHaveProperty('dpop_signing_alg_values_supported');
    expect(metadata).not.toHaveProperty('tls_client_certificate_bound_access_tokens');
    expect(metadata).not.toHaveProperty('mtls_endpoint_aliases');
    expect(realm.mtlsEndpointAliases).toBeUndefined();
    await expect(realm.issueCertBoundToken()).rejects.toThrow('start the realm with mtls');
  });

  it('still issues unbound JWTs that introspect as Bearer', async () => {
    const token = await realm.issueToken();
    expect(payloadOf(token).cnf).toBeUndefined();
    expect(await realm.introspect(token)).toMatchObject({ active: true, token_type: 'Bearer' });
  });
});

describe('DevRealm.start with a configuration oidc-provider refuses', () => {
  it('rejects and leaves neither listener open', async () => {
    const [port, mtlsPort] = [await freePort(), await freePort()];
    const options = {
      port,
      scopes: ['read:posts'],
      clients: [],
      resources: { [JWT_RESOURCE]: 'jwt' as const },
      introspector: M2M_CLIENT,
      mtls: { cert: MTLS.server.cert, key: MTLS.server.key, port: mtlsPort },
    };
    // HS256 is not an algorithm for proofs.
    await expect(DevRealm.start({ ...options, dpop: { algorithms: ['HS256'] } })).rejects.toThrow(
      'unsupported enabledJWA.dPoPSigningAlgValues algorithm',
    );
    // Both ports are free again.
    const realm = await DevRealm.start(options);
    await realm.close();
  });
});

describe('dpopRequest (oauth4webapi protectedResourceRequest)', () => {
  // A resource that records what it got, and first asks for a nonce when `nonce` is set.
  let server: Server;
  let url: string;
  let nonce: string | undefined;
  const seen: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      const proof = payloadOf(String(req.headers.dpop));
      if (nonce && proof.nonce !== nonce) {
        res
          .writeHead(401, {
            'www-authenticate': 'DPoP error="use_dpop_nonce", algs="ES256"',
            'dpop-nonce': nonce,
          })
          .end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/posts`;
  });
  beforeEach(() => {
    seen.length = 0;
    nonce = undefined;
  });
  afterAll(async () => {
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends Authorization: DPoP and a proof for the method, URL and token', async () => {
    const key = await createDpopKey();
    const response = await dpopRequest(`${url}?page=2`, 'the-token', key, {
      method: 'POST',
      body: '{}',
    });
    expect(response).toMatchObject({ status: 200, body: 'ok', attempts: 1 });
    expect(seen[0].authorization).toBe('DPoP the-token');
    const proof = String(seen[0].dpop);
    expect(decodeProtectedHeader(proof)).toMatchObject({
      typ: 'dpop+jwt',
      alg: 'ES256',
      jwk: key.publicJwk,
    });
    expect(payloadOf(proof)).toMatchObject({ htm: 'POST', htu: url, ath: athOf('the-token') });
  });

  it('retries a use_dpop_nonce challenge once with the nonce, or returns it', async () => {
    nonce = 'server-nonce-1';
    const key = await createDpopKey();
    const retried = await dpopRequest(url, 'the-token', key);
    expect(retried).toMatchObject({ status: 200, attempts: 2 });
    expect(payloadOf(String(seen[1].dpop)).nonce).toBe('server-nonce-1');
    // oauth4webapi keeps the nonce for the origin: the next request carries it at once.
    expect(await dpopRequest(url, 'the-token', key)).toMatchObject({ status: 200, attempts: 1 });
    nonce = 'server-nonce-2';
    const challenged = await dpopRequest(url, 'the-token', key, { retryOnNonce: false });
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get('www-authenticate')).toContain('use_dpop_nonce');
  });
});
