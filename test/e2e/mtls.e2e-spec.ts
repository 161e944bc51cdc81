import { Controller, Get, type INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { X509Certificate } from 'node:crypto';
import { Server as TlsServer } from 'node:tls';
import request from 'supertest';
import { Scopes, VoxKeyModule, VoxKeyUser, type VoxKeyClaims } from '../../lib/index';
import type { VoxKeyModuleOptions } from '../../lib/interfaces/voxkey-module-options.interface';
import { DpopTestKey, VoxKeyTestRealm } from '../../lib/testing/index';
import { SUPPORTED_ALGORITHMS } from '../../lib/voxkey.constants';
import { createApp, PLATFORMS, type Platform } from '../support/app';
import { CaptureLogger } from '../support/capture-logger';
import {
  type CertificateAndKey,
  certificateThumbprint,
  MTLS,
  mtlsRequest,
  mtlsServerOptions,
} from '../support/mtls';
import { JWT_RESOURCE, OidcRealm } from '../support/oidc-realm';
import { rawRequest } from '../support/raw-http';

// Certificate-bound access tokens (RFC 8705 §3; research §3.3 T1–T5): tokens a real
// oidc-provider bound to a client certificate over its mTLS listener, checked by an app that
// reads the certificate from its own TLS socket or from a proxy's header.

const NOT_BOUND = 'The access token is not bound to this request (DPoP key or client certificate)';
const BOUND_CHALLENGE = `Bearer realm="${JWT_RESOURCE}", error="invalid_token", error_description="${NOT_BOUND}"`;

@Controller('posts')
class PostsController {
  @Get()
  @Scopes('read:posts')
  list(@VoxKeyUser() user: VoxKeyClaims): { client: unknown; cnf: unknown } {
    return { client: user.client_id ?? null, cnf: user.cnf ?? null };
  }
}

/** nginx's `$ssl_client_escaped_cert`, from a PEM. */
const escaped = (pem: string) => encodeURIComponent(pem);
/** One element of Envoy's `x-forwarded-client-cert`, as Envoy writes it for `pem`. */
const xfcc = (pem: string) => {
  const hash = new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();
  return `Hash=${hash};Cert="${escaped(pem)}";Subject="CN=client"`;
};

/** What no log line may hold: the tokens sent, and any certificate's text (PEM or escaped). */
class Secrets {
  private readonly values: string[] = [];
  constructor() {
    for (const { cert } of [MTLS.clientA, MTLS.clientB]) this.addCertificate(cert);
  }
  add<T extends string>(value: T): T {
    this.values.push(value, value.split('.').pop()!);
    return value;
  }
  private addCertificate(pem: string): void {
    for (const line of pem.split('\n').filter((l) => /^[A-Za-z0-9+/=]{32,}$/.test(l))) {
      this.values.push(line, escaped(line));
    }
  }
  expectNoneIn(logs: CaptureLogger): void {
    // The refusals were logged (at debug level), so the check below looked at something.
    expect(logs.lines.some((line) => line.includes('Rejected (401): binding:'))).toBe(true);
    for (const line of logs.lines) {
      expect(line).not.toMatch(/BEGIN( |%20)CERTIFICATE/);
      for (const value of this.values) expect(line).not.toContain(value);
    }
  }
}

/** The last refusal the guard logged since `mark` (its debug reason). */
function reasonSince(logs: CaptureLogger, mark: number): string | undefined {
  return logs.lines
    .slice(mark)
    .filter((line) => line.includes('Rejected ('))
    .pop();
}

/**
 * A Nest app served over HTTPS on 127.0.0.1 that asks every client for a certificate and lets
 * the guard decide. Express takes Nest's `httpsOptions`; Fastify's adapter ignores them (it
 * would serve plain HTTP) and takes Fastify's own `https` option instead.
 */
async function createHttpsApp(
  platform: Platform,
  options: VoxKeyModuleOptions,
  logger: CaptureLogger,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [VoxKeyModule.forRoot(options)],
    controllers: [PostsController],
  }).compile();
  const app =
    platform === 'express'
      ? moduleRef.createNestApplication(new ExpressAdapter(), {
          logger,
          httpsOptions: mtlsServerOptions(),
        })
      : moduleRef.createNestApplication(new FastifyAdapter({ https: mtlsServerOptions() }), {
          logger,
        });
  app.useLogger(logger);
  try {
    await app.listen(0, '127.0.0.1');
    if (platform === 'fastify')
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}

const urlOf = (app: INestApplication) =>
  `https://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/posts`;

describe('certificate-bound tokens (RFC 8705)', () => {
  let realm: OidcRealm;
  /** Bound to MTLS.clientA by the realm's mTLS token endpoint. */
  let boundToA: string;
  /** From the realm's ordinary token endpoint: no cnf. */
  let unbound: string;
  const secrets = new Secrets();

  beforeAll(async () => {
    realm = await OidcRealm.start({ mtls: true });
    boundToA = secrets.add(await realm.issueCertBoundToken({ certificate: MTLS.clientA }));
    unbound = secrets.add(await realm.issueToken());
  });
  afterAll(async () => realm?.close());

  /** An HTTPS app with these `mtls` options, for the tests of the enclosing describe. */
  function httpsScenario(platform: Platform, mtls: VoxKeyModuleOptions['mtls']) {
    const logs = new CaptureLogger();
    let app: INestApplication;
    beforeAll(async () => {
      app = await createHttpsApp(platform, realm.moduleOptions({ mtls }), logs);
    });
    afterAll(async () => {
      await app?.close();
      secrets.expectNoneIn(logs);
    });
    const get = (token: string, client?: CertificateAndKey) =>
      mtlsRequest(urlOf(app), { client, headers: { authorization: `Bearer ${token}` } });
    /** Sends the request and asserts the 401 invalid_token and the reason the guard logged. */
    const expectRefused = async (
      token: string,
      client: CertificateAndKey | undefined,
      reason: string,
    ) => {
      const mark = logs.lines.length;
      const res = await get(token, client);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(BOUND_CHALLENGE);
      expect(JSON.parse(res.body)).toEqual({
        statusCode: 401,
        error: 'Invalid token',
        message: NOT_BOUND,
      });
      expect(reasonSince(logs, mark)).toContain(`Rejected (401): binding: ${reason}`);
    };
    return { app: () => app, get, expectRefused };
  }

  describe.each(PLATFORMS)("over the app's own TLS (certificate: 'socket') on %s", (platform) => {
    describe("mode 'allowed'", () => {
      const { app, get, expectRefused } = httpsScenario(platform, { certificate: 'socket' });

      it('serves TLS (Fastify through its own https option, see createHttpsApp)', () => {
        const server = app().getHttpServer();
        expect(server).toBeInstanceOf(TlsServer);
      });

      it('T1: accepts the token with the certificate it is bound to', async () => {
        const res = await get(boundToA, MTLS.clientA);
        expect(res.status).toBe(200);
        expect(JSON.parse(res.body)).toEqual({
          client: 'mtls-client',
          cnf: { 'x5t#S256': certificateThumbprint(MTLS.clientA.cert) },
        });
      });

      it('T2: refuses it with another certificate of the same CA, also once its verification is cached', async () => {
        expect((await get(boundToA, MTLS.clientA)).status).toBe(200);
        await expectRefused(
          boundToA,
          MTLS.clientB,
          'the client certificate is not the one the token is bound to',
        );
      });

      it('T3: refuses it without a certificate', async () => {
        await expectRefused(
          boundToA,
          undefined,
          'a certificate-bound token without a client certificate',
        );
      });

      it('accepts an unbound token, with or without a certificate', async () => {
        for (const client of [undefined, MTLS.clientA, MTLS.clientB]) {
          const res = await get(unbound, client);
          expect(res.status).toBe(200);
          expect(JSON.parse(res.body).cnf).toBeNull();
        }
      });
    });

    describe("mode 'required'", () => {
      const { get, expectRefused } = httpsScenario(platform, {
        certificate: 'socket',
        mode: 'required',
      });

      it('refuses an unbound token, even with a certificate', async () => {
        for (const client of [undefined, MTLS.clientA]) {
          await expectRefused(
            unbound,
            client,
            "a token that is not certificate-bound where 'mtls.mode' is 'required'",
          );
        }
      });

      it('accepts the bound token with its certificate only', async () => {
        expect((await get(boundToA, MTLS.clientA)).status).toBe(200);
        await expectRefused(
          boundToA,
          MTLS.clientB,
          'the client certificate is not the one the token is bound to',
        );
      });
    });

    describe("no 'mtls' option", () => {
      const { get, expectRefused } = httpsScenario(platform, undefined);

      it('T4: refuses a certificate-bound token, even with its certificate; unbound ones pass', async () => {
        await expectRefused(
          boundToA,
          MTLS.clientA,
          "a certificate-bound token and no 'mtls' configured",
        );
        expect((await get(unbound, MTLS.clientA)).status).toBe(200);
      });
    });
  });

  describe.each(
    PLATFORMS.flatMap((platform) =>
      (['x-forwarded-client-cert', 'ssl-client-cert'] as const).map(
        (header) => [platform, header] as const,
      ),
    ),
  )('behind a proxy on %s (certificate: %j)', (platform, header) => {
    const logs = new CaptureLogger();
    let app: INestApplication;
    const encode = header === 'ssl-client-cert' ? escaped : xfcc;

    beforeAll(async () => {
      app = await createApp(
        platform,
        [VoxKeyModule.forRoot(realm.moduleOptions({ mtls: { certificate: header } }))],
        [PostsController],
        logs,
      );
      app.useLogger(logs);
    });
    afterAll(async () => {
      await app?.close();
      secrets.expectNoneIn(logs);
    });

    const get = (token: string, value?: string) => {
      const req = request(app.getHttpServer())
        .get('/posts')
        .set('Authorization', `Bearer ${token}`);
      return value === undefined ? req : req.set(header, value);
    };
    const expectRefused = async (
      res: request.Response | Promise<request.Response>,
      mark: number,
      reason: string,
    ) => {
      const answer = await res;
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBe(BOUND_CHALLENGE);
      expect(answer.body).toEqual({ statusCode: 401, error: 'Invalid token', message: NOT_BOUND });
      expect(reasonSince(logs, mark)).toContain(`Rejected (401): binding: ${reason}`);
    };

    it('T1: accepts the token with the header holding its certificate', async () => {
      const res = await get(boundToA, encode(MTLS.clientA.cert));
      expect(res.status).toBe(200);
      expect(res.body.cnf).toEqual({ 'x5t#S256': certificateThumbprint(MTLS.clientA.cert) });
    });

    it('T2: refuses a header forged with another certificate', async () => {
      await expectRefused(
        get(boundToA, encode(MTLS.clientB.cert)),
        logs.lines.length,
        'the client certificate is not the one the token is bound to',
      );
    });

    it('T3: refuses the token without the header, or with an empty one', async () => {
      for (const value of [undefined, '']) {
        await expectRefused(
          get(boundToA, value),
          logs.lines.length,
          'a certificate-bound token without a client certificate',
        );
      }
    });

    it('T5: refuses two header fields, even both holding the right certificate', async () => {
      const value = encode(MTLS.clientA.cert);
      const mark = logs.lines.length;
      const res = await rawRequest((app.getHttpServer().address() as { port: number }).port, [
        'GET /posts HTTP/1.1',
        'Host: 127.0.0.1',
        `Authorization: Bearer ${boundToA}`,
        `${header}: ${value}`,
        `${header}: ${value}`,
      ]);
      expect(res.status).toBe(401);
      expect(res.text.toLowerCase()).toContain(
        `www-authenticate: ${BOUND_CHALLENGE.toLowerCase()}\r\n`,
      );
      expect(reasonSince(logs, mark)).toContain(`binding: several ${header} headers`);
    });

    const malformed: [string, string, string][] = [
      ['text', 'hello', 'certificate does not parse'],
      ['a PEM cut short', escaped(MTLS.clientA.cert.slice(0, 300)), 'certificate does not parse'],
      ['a private key', escaped(MTLS.clientA.key), 'certificate does not parse'],
      [
        'a PEM not URL-encoded',
        MTLS.clientA.cert.replaceAll('\n', ' '),
        'certificate does not parse',
      ],
      [
        'bad URL-encoding',
        `${escaped(MTLS.clientA.cert)}%E0%A4%A`,
        'header is not URL-encoded PEM',
      ],
    ];
    it.each(malformed)(
      'T5: refuses %s as the certificate, never with a 500',
      async (_, cert, detail) => {
        const value = header === 'ssl-client-cert' ? cert : `Cert="${cert}"`;
        await expectRefused(get(boundToA, value), logs.lines.length, `the ${header} ${detail}`);
      },
    );

    if (header === 'x-forwarded-client-cert') {
      it.each([
        [
          'two elements (a client-set one passed on)',
          `${xfcc(MTLS.clientB.cert)},${xfcc(MTLS.clientA.cert)}`,
        ],
        ['two Cert keys', `Cert="${escaped(MTLS.clientB.cert)}";${xfcc(MTLS.clientA.cert)}`],
      ])('T5: refuses an XFCC value with %s', async (_, value) => {
        await expectRefused(
          get(boundToA, value),
          logs.lines.length,
          'the x-forwarded-client-cert header is not one element with one Cert',
        );
      });
    }

    it('ignores the header for an unbound token, whatever it holds', async () => {
      for (const value of [undefined, encode(MTLS.clientB.cert), 'garbage']) {
        expect((await get(unbound, value)).status).toBe(200);
      }
    });
  });
});

describe.each(PLATFORMS)('a token bound to both a DPoP key and a certificate on %s', (platform) => {
  const PUBLIC = 'https://api.example.com';
  const URL = `${PUBLIC}/posts`;
  const ALGS = `DPoP algs="${SUPPORTED_ALGORITHMS.join(' ')}"`;
  const CHALLENGE = `Bearer realm="${PUBLIC}", resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource", error="invalid_token", error_description="${NOT_BOUND}", scope="read:posts", ${ALGS}, resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource"`;
  const logs = new CaptureLogger();
  const secrets = new Secrets();
  const key = DpopTestKey.generate();
  let realm: VoxKeyTestRealm;
  let app: INestApplication;
  let token: string;

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start({ audience: PUBLIC });
    app = await createApp(
      platform,
      [
        VoxKeyModule.forRoot(
          realm.moduleOptions({
            resources: [{ resource: PUBLIC }],
            dpop: { publicUrl: PUBLIC },
            mtls: { certificate: 'ssl-client-cert' },
          }),
        ),
      ],
      [PostsController],
      logs,
    );
    app.useLogger(logs);
    token = secrets.add(
      realm.mint({ scope: 'read:posts', dpopKey: key, certificate: MTLS.clientA.cert }),
    );
  });
  afterAll(async () => {
    await app?.close();
    await realm?.close();
    secrets.expectNoneIn(logs);
  });

  const proof = () => secrets.add(key.proof('GET', URL, { accessToken: token }));
  const get = (scheme: 'DPoP' | 'Bearer', dpop?: string, certificate?: string) => {
    let req = request(app.getHttpServer()).get('/posts').set('Authorization', `${scheme} ${token}`);
    if (dpop !== undefined) req = req.set('DPoP', dpop);
    if (certificate !== undefined) req = req.set('ssl-client-cert', escaped(certificate));
    return req;
  };
  const expectRefused = (res: request.Response, mark: number, reason: string) => {
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(CHALLENGE);
    expect(res.body).toEqual({ statusCode: 401, error: 'Invalid token', message: NOT_BOUND });
    expect(reasonSince(logs, mark)).toContain(`Rejected (401): binding: ${reason}`);
  };

  it('advertises certificate-bound tokens in the metadata document', async () => {
    const res = await request(app.getHttpServer()).get('/.well-known/oauth-protected-resource');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      resource: PUBLIC,
      tls_client_certificate_bound_access_tokens: true,
    });
  });

  it('D42: accepts the proof and the certificate together', async () => {
    const res = await get('DPoP', proof(), MTLS.clientA.cert);
    expect(res.status).toBe(200);
    expect(res.body.cnf).toEqual({
      jkt: key.jkt,
      'x5t#S256': certificateThumbprint(MTLS.clientA.cert),
    });
  });

  it('D42: refuses a valid proof without the certificate', async () => {
    const mark = logs.lines.length;
    expectRefused(
      await get('DPoP', proof()),
      mark,
      'a certificate-bound token without a client certificate',
    );
  });

  it('D42: refuses a valid proof with another certificate', async () => {
    const mark = logs.lines.length;
    expectRefused(
      await get('DPoP', proof(), MTLS.clientB.cert),
      mark,
      'the client certificate is not the one the token is bound to',
    );
  });

  it('D42: refuses the certificate without a proof, sent as Bearer (invalid_token)', async () => {
    const mark = logs.lines.length;
    expectRefused(
      await get('Bearer', undefined, MTLS.clientA.cert),
      mark,
      'a DPoP-bound token sent as a Bearer token',
    );
  });

  it('D42: refuses the certificate without a proof under the DPoP scheme (invalid_dpop_proof)', async () => {
    const res = await get('DPoP', undefined, MTLS.clientA.cert);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/, DPoP error="invalid_dpop_proof"/);
  });

  it('D42: refuses the certificate with a proof by another key', async () => {
    const other = DpopTestKey.generate();
    const mark = logs.lines.length;
    expectRefused(
      await get(
        'DPoP',
        secrets.add(other.proof('GET', URL, { accessToken: token })),
        MTLS.clientA.cert,
      ),
      mark,
      'the proof key is not the key the token is bound to',
    );
  });
});
