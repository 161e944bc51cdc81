import { Controller, Get, type INestApplication, Param } from '@nestjs/common';
import request from 'supertest';
import {
  Realm,
  RealmFromParam,
  VoxKeyModule,
  VoxKeyUser,
  type VoxKeyClaims,
  type VoxKeyModuleOptions,
} from '../../lib/index';
import { VerifiedTokenCache } from '../../lib/cache/verified-token.cache';
import { RevocationList } from '../../lib/services/revocation-list';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { VOXKEY_RESOLVED_OPTIONS } from '../../lib/voxkey.constants';
import { CaptureLogger } from '../support/capture-logger';
import { createApp, PLATFORMS } from '../support/app';

const AUDIENCE = (id: string) => `https://api.example.test/t/${id}`;
/** The public domain of realm C, which does not resolve: its endpoints are reached by the back channel. */
const C_DOMAIN = 'https://login.initech.invalid';
const SHARED_KID = 'shared-kid';

/** Which handler ran, and for whom. */
const calls: string[] = [];

@Controller()
class TenantRoutes {
  @Get('any') any(@VoxKeyUser() user: VoxKeyClaims) {
    calls.push(`any:${user.realm}`);
    return { realm: user.realm, sub: user.sub };
  }

  @Realm('acme') @Get('acme') acme(@VoxKeyUser() user: VoxKeyClaims) {
    calls.push(`acme:${user.realm}`);
    return { realm: user.realm };
  }

  @RealmFromParam('tenantId') @Get('tenants/:tenantId/posts') posts(
    @Param('tenantId') tenantId: string,
    @VoxKeyUser() user: VoxKeyClaims,
  ) {
    calls.push(`tenant:${tenantId}:${user.realm}`);
    return { tenant: tenantId, realm: user.realm };
  }
}

/** Routes of a single-realm app: no binding there. */
@Controller()
class PlainRoutes {
  @Get('any') any(@VoxKeyUser() user: VoxKeyClaims) {
    return { realm: user.realm, sub: user.sub };
  }
}

/** A controller bound to two realms, one of its handlers to a third: the handler's binding wins. */
@Realm('acme', 'globex')
@Controller('bound')
class BoundRoutes {
  @Get('pair') pair(@VoxKeyUser() user: VoxKeyClaims) {
    return { realm: user.realm };
  }

  @Realm('initech') @Get('initech') initech(@VoxKeyUser() user: VoxKeyClaims) {
    return { realm: user.realm };
  }
}

describe.each(PLATFORMS)('several realms (%s)', (platform) => {
  let a: VoxKeyTestRealm;
  let b: VoxKeyTestRealm;
  let c: VoxKeyTestRealm;
  let stranger: VoxKeyTestRealm;
  let app: INestApplication;
  let options: VoxKeyModuleOptions;
  let snapshot: string;
  const logger = new CaptureLogger();

  const get = (path: string, token?: string) => {
    const req = request(app.getHttpServer()).get(path);
    return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
  };
  const mintA = (claims: Record<string, unknown> = {}) =>
    a.mint({ subject: 'alice', claims: { aud: AUDIENCE('acme'), ...claims } });
  const mintB = (claims: Record<string, unknown> = {}) =>
    b.mint({ subject: 'bob', claims: { aud: AUDIENCE('globex'), ...claims } });
  /** Realm C's tokens carry its public issuer, not the back channel's URL. */
  const mintC = (claims: Record<string, unknown> = {}) =>
    c.mint({
      subject: 'carol',
      claims: { iss: `${C_DOMAIN}/oauth2/${c.realm}`, aud: AUDIENCE('initech'), ...claims },
    });

  beforeAll(async () => {
    // A and B publish a key under the same kid: only the realm the token names may verify it.
    [a, b, c, stranger] = await Promise.all([
      VoxKeyTestRealm.start({ kid: SHARED_KID }),
      VoxKeyTestRealm.start({ kid: SHARED_KID }),
      VoxKeyTestRealm.start(),
      VoxKeyTestRealm.start(),
    ]);
    options = {
      domain: a.domain,
      realms: [
        { id: 'acme', realm: a.realm, audience: AUDIENCE('acme') },
        { id: 'globex', realm: b.realm, audience: AUDIENCE('globex'), domain: b.domain },
        {
          id: 'initech',
          realm: c.realm,
          audience: AUDIENCE('initech'),
          domain: C_DOMAIN,
          backchannelUrl: c.domain,
        },
      ],
      jwks: { cooldownMs: 1_000 },
    };
    snapshot = JSON.stringify(options);
    app = await createApp(
      platform,
      [VoxKeyModule.forRoot(options)],
      [TenantRoutes, BoundRoutes],
      logger,
    );
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all([a, b, c, stranger].map((realm) => realm?.close()));
  });
  beforeEach(() => {
    calls.length = 0;
  });

  it('accepts each realm’s tokens and says which realm they came from', async () => {
    for (const [mint, realm] of [
      [mintA, 'acme'],
      [mintB, 'globex'],
      [mintC, 'initech'],
    ] as const) {
      const res = await get('/any', mint());
      expect(res.status).toBe(200);
      expect(res.body.realm).toBe(realm);
    }
    // Realm C's public domain does not resolve: its keys came through the back channel.
    expect(c.jwksRequests).toBe(1);
  });

  it('a token claiming its own realm claim gets the configured id', async () => {
    const res = await get('/any', mintA({ realm: 'globex' }));
    expect(res.status).toBe(200);
    expect(res.body.realm).toBe('acme');
  });

  it('refuses a realm-A token on a route bound to B, and the handler does not run (MT-01)', async () => {
    const res = await get('/tenants/globex/posts', mintA());
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(res.headers['www-authenticate']).toContain('The access token issuer is not accepted');
    expect(calls).toEqual([]);
    expect((await get('/tenants/globex/posts', mintB())).body).toEqual({
      tenant: 'globex',
      realm: 'globex',
    });
    // A parameter naming no realm accepts nothing.
    expect((await get('/tenants/nobody/posts', mintA())).status).toBe(401);
  });

  it('@Realm on the handler replaces the controller’s binding', async () => {
    expect((await get('/bound/pair', mintA())).status).toBe(200);
    expect((await get('/bound/pair', mintB())).status).toBe(200);
    expect((await get('/bound/pair', mintC())).status).toBe(401);
    expect((await get('/bound/initech', mintC())).status).toBe(200);
    expect((await get('/bound/initech', mintA())).status).toBe(401);
    expect((await get('/acme', mintB())).status).toBe(401);
  });

  it('a verified-token cache hit checks the binding again (MT-09)', async () => {
    const token = mintA();
    const cache = app.get(VerifiedTokenCache);
    expect((await get('/acme', token)).status).toBe(200);
    const size = cache.size;
    expect((await get('/acme', token)).status).toBe(200);
    expect(cache.size).toBe(size);
    expect((await get('/tenants/globex/posts', token)).status).toBe(401);
  });

  it('an issuer not listed is refused without fetching anything (MT-02)', async () => {
    const token = stranger.mint({ claims: { aud: AUDIENCE('acme') } });
    const res = await get('/any', token);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('The access token issuer is not accepted');
    expect(stranger.jwksRequests).toBe(0);
  });

  it('every other spelling of a listed issuer is refused, with no fetch and no cache entry (MT-04)', async () => {
    await get('/any', mintA()); // warm A's keys
    calls.length = 0;
    const fetches = a.jwksRequests;
    const cache = app.get(VerifiedTokenCache);
    const size = cache.size;
    const url = new URL(a.issuer);
    const variants: unknown[] = [
      a.issuer.toUpperCase(),
      `${a.issuer}/`,
      a.issuer.replace(a.realm, a.realm.toUpperCase()),
      `${url.protocol}//${url.hostname}:${url.port}/oauth2/${a.realm}/`,
      a.issuer.replace('http:', 'https:'),
      ` ${a.issuer}`,
      [a.issuer],
      42,
      undefined,
    ];
    for (const iss of variants) {
      const res = await get('/any', mintA({ iss }));
      expect([iss, res.status]).toEqual([iss, 401]);
    }
    expect(a.jwksRequests).toBe(fetches);
    expect(cache.size).toBe(size);
    expect(calls).toEqual([]);
  });

  it('a token naming realm A signed with realm B’s key under the same kid is refused (MT-03)', async () => {
    await get('/any', mintA());
    const fetchesB = b.jwksRequests;
    const forged = b.mint({ claims: { iss: a.issuer, aud: AUDIENCE('acme') } });
    expect(JSON.parse(Buffer.from(forged.split('.')[0], 'base64url').toString()).kid).toBe(
      SHARED_KID,
    );
    const res = await get('/any', forged);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('signature');
    // B's key set was never consulted for a token that names A.
    expect(b.jwksRequests).toBe(fetchesB);
  });

  it('another realm’s audience is refused even with a valid signature', async () => {
    expect((await get('/any', mintA({ aud: AUDIENCE('globex') }))).status).toBe(401);
  });

  it('a flood of unknown kids on A never delays B, which still fetches its rotated key (MT-08)', async () => {
    await Promise.all([get('/any', mintA()), get('/any', mintB())]);
    const fetchesA = a.jwksRequests;
    const fetchesB = b.jwksRequests;
    const flood = (from: number) =>
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          get(
            '/any',
            a.mint({ claims: { aud: AUDIENCE('acme') }, header: { kid: `random-${from + i}` } }),
          ),
        ),
      );
    const first = await flood(0);
    expect(first.every((res) => res.status === 401)).toBe(true);
    // Past the cool-down of both realms: B's refetch for its new kid is its own to make.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const rotated = b.rotateKeys();
    const [second, answerB] = await Promise.all([
      flood(100),
      get('/any', b.mint({ kid: rotated, claims: { aud: AUDIENCE('globex') } })),
    ]);
    expect(second.every((res) => res.status === 401)).toBe(true);
    expect(answerB.status).toBe(200);
    // A: at most one refetch per cool-down window; B: exactly its own one.
    expect(a.jwksRequests - fetchesA).toBeLessThanOrEqual(2);
    expect(b.jwksRequests - fetchesB).toBe(1);
  });

  it('the deny list is per realm: the same jti in another realm still passes (MT-10)', async () => {
    const revokedA = mintA({ jti: 'same-jti' });
    const otherB = mintB({ jti: 'same-jti' });
    await app.get(RevocationList).add(revokedA, Date.now() + 60_000, 'acme');
    const res = await get('/any', revokedA);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('revoked');
    expect((await get('/any', otherB)).status).toBe(200);
  });

  it('leaves the options as they were given, and frozen once resolved (MT-15)', () => {
    expect(JSON.stringify(options)).toBe(snapshot);
    const resolved = app.get(VOXKEY_RESOLVED_OPTIONS);
    expect(Object.isFrozen(resolved.realms)).toBe(true);
    expect(resolved.realms.every((realm: object) => Object.isFrozen(realm))).toBe(true);
  });

  it('does not warn about shared audiences when every realm has its own', () => {
    expect(logger.lines.filter((line) => line.includes('share the audience'))).toEqual([]);
  });
});

describe.each(PLATFORMS)('a realm whose keys cannot be fetched (%s)', (platform) => {
  it('is a 503 for its tokens only', async () => {
    const [up, cold] = await Promise.all([VoxKeyTestRealm.start(), VoxKeyTestRealm.start()]);
    cold.jwksAvailable = false;
    const app = await createApp(
      platform,
      [
        VoxKeyModule.forRoot({
          domain: up.domain,
          realms: [
            { id: 'acme', realm: up.realm, audience: AUDIENCE('acme') },
            { id: 'cold', realm: cold.realm, audience: AUDIENCE('cold'), domain: cold.domain },
          ],
        }),
      ],
      [TenantRoutes],
    );
    try {
      const get = (token: string) =>
        request(app.getHttpServer()).get('/any').set('Authorization', `Bearer ${token}`);
      const down = await get(cold.mint({ claims: { aud: AUDIENCE('cold') } }));
      expect(down.status).toBe(503);
      expect(down.headers['retry-after']).toBeDefined();
      expect((await get(up.mint({ claims: { aud: AUDIENCE('acme') } }))).status).toBe(200);
      expect(up.jwksRequests).toBe(1);
    } finally {
      await app.close();
      await Promise.all([up.close(), cold.close()]);
    }
  });
});

describe.each(PLATFORMS)('tenancy.resolve (%s)', (platform) => {
  let a: VoxKeyTestRealm;
  let b: VoxKeyTestRealm;
  let app: INestApplication;
  let resolverMode: 'host' | 'none' | 'throw' | 'odd' = 'host';
  /** What the resolver answers in mode 'odd': neither a string nor a list of them. */
  let oddAnswer: unknown;
  const seen: { host?: string; path?: string; params: Record<string, string> }[] = [];
  const logger = new CaptureLogger();

  const get = (path: string, token: string, host: string) =>
    request(app.getHttpServer())
      .get(path)
      .set('Host', host)
      .set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    [a, b] = await Promise.all([VoxKeyTestRealm.start(), VoxKeyTestRealm.start()]);
    app = await createApp(
      platform,
      [
        VoxKeyModule.forRoot({
          domain: a.domain,
          // Both realms give this API the same audience: only the resolver tells them apart.
          audience: AUDIENCE('shared'),
          realms: [
            { id: 'acme', realm: a.realm },
            { id: 'globex', realm: b.realm, domain: b.domain },
          ],
          tenancy: {
            resolve: ({ host, path, params }) => {
              seen.push({ host, path, params: { ...params } });
              if (resolverMode === 'throw') throw new Error('tenant database down');
              if (resolverMode === 'none') return undefined;
              if (resolverMode === 'odd') return oddAnswer as string;
              return host?.split('.')[0] === 'acme' ? ['acme'] : 'globex';
            },
          },
        }),
      ],
      [TenantRoutes],
      logger,
    );
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all([a?.close(), b?.close()]);
  });
  afterEach(() => {
    resolverMode = 'host';
  });

  it('binds by host: each realm’s token only on its own host (MT-07)', async () => {
    const tokenA = a.mint({ claims: { aud: AUDIENCE('shared') } });
    const tokenB = b.mint({ claims: { aud: AUDIENCE('shared') } });
    expect((await get('/any?x=1', tokenA, 'acme.example.test')).status).toBe(200);
    expect(seen.at(-1)).toEqual({ host: 'acme.example.test', path: '/any', params: {} });
    expect((await get('/any', tokenB, 'acme.example.test')).status).toBe(401);
    expect((await get('/any', tokenB, 'globex.example.test')).status).toBe(200);
    expect((await get('/any', tokenA, 'globex.example.test')).status).toBe(401);
    // X-Forwarded-Host is the client's to choose: the resolver was given Host.
    const spoofed = await request(app.getHttpServer())
      .get('/any')
      .set('Host', 'globex.example.test')
      .set('X-Forwarded-Host', 'acme.example.test')
      .set('Authorization', `Bearer ${tokenA}`);
    expect(spoofed.status).toBe(401);
  });

  it('a route decorator takes precedence over the resolver', async () => {
    const tokenB = b.mint({ claims: { aud: AUDIENCE('shared') } });
    const before = seen.length;
    expect((await get('/tenants/globex/posts', tokenB, 'acme.example.test')).status).toBe(200);
    expect(seen.length).toBe(before);
  });

  it('a resolver that returns nothing accepts nothing; one that throws is a 503 (MT-14)', async () => {
    const tokenA = a.mint({ claims: { aud: AUDIENCE('shared') } });
    resolverMode = 'none';
    expect((await get('/any', tokenA, 'acme.example.test')).status).toBe(401);
    resolverMode = 'throw';
    const res = await get('/any', tokenA, 'acme.example.test');
    expect(res.status).toBe(503);
    expect(JSON.stringify(res.body)).not.toContain('tenant database');
    expect(logger.lines.some((line) => line.includes("'tenancy.resolve' threw"))).toBe(true);
  });

  it('a resolver answering neither a string nor a list accepts nothing: a 401, not a 500', async () => {
    const tokenA = a.mint({ claims: { aud: AUDIENCE('shared') } });
    resolverMode = 'odd';
    calls.length = 0;
    for (const answer of [new Set(['acme']), 42, { acme: true }, true]) {
      oddAnswer = answer;
      const res = await get('/any', tokenA, 'acme.example.test');
      expect([answer, res.status]).toEqual([answer, 401]);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    }
    expect(calls).toEqual([]);
  });
});

describe('shared audiences without tenancy', () => {
  it('warn once, naming the realms (MT-16)', async () => {
    const [a, b] = await Promise.all([VoxKeyTestRealm.start(), VoxKeyTestRealm.start()]);
    const logger = new CaptureLogger();
    const app = await createApp(
      'express',
      [
        VoxKeyModule.forRoot({
          domain: a.domain,
          audience: AUDIENCE('shared'),
          realms: [
            { id: 'acme', realm: a.realm },
            { id: 'globex', realm: b.realm, domain: b.domain },
          ],
        }),
      ],
      [TenantRoutes],
      logger,
    );
    try {
      const warnings = logger.lines.filter((line) => line.includes('share the audience'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("'acme', 'globex'");
    } finally {
      await app.close();
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('backchannelUrl and issuerAliases (single realm)', () => {
  let realm: VoxKeyTestRealm;
  let app: INestApplication;
  const logger = new CaptureLogger();
  const PUBLIC = 'https://id.example.invalid';
  const ALIAS = 'https://old-id.example.invalid/oauth2/legacy';

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
    app = await createApp(
      'express',
      [
        VoxKeyModule.forRoot({
          domain: PUBLIC,
          realm: realm.realm,
          audience: 'https://api.example.test',
          backchannelUrl: realm.domain,
          issuerAliases: [ALIAS],
        }),
      ],
      [PlainRoutes],
      logger,
    );
  });
  afterAll(async () => {
    await app?.close();
    await realm?.close();
  });

  const get = (token: string) =>
    request(app.getHttpServer()).get('/any').set('Authorization', `Bearer ${token}`);

  it('checks iss against the public issuer while keys come from the back channel', async () => {
    const res = await get(realm.mint({ claims: { iss: `${PUBLIC}/oauth2/${realm.realm}` } }));
    expect(res.status).toBe(200);
    expect(res.body.realm).toBe('default');
    expect(realm.jwksRequests).toBe(1);
  });

  it('refuses a token whose iss is the back channel’s URL (BC-01), and says why in the debug log only (BC-07)', async () => {
    const token = realm.mint();
    const res = await get(token);
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('The access token issuer is not accepted');
    expect(JSON.stringify(res.body)).not.toContain(realm.domain);
    const line = logger.lines.find((entry) => entry.includes('token issuer not accepted'));
    expect(line).toContain(`got "${realm.issuer}"`);
    expect(line).toContain(`"${PUBLIC}/oauth2/${realm.realm}"`);
    expect(line).toContain("'domain', 'realm' and 'issuerAliases'");
    expect(logger.lines.some((entry) => entry.includes(token))).toBe(false);
  });

  it('accepts an alias exactly, and no other spelling of it (BC-02)', async () => {
    expect((await get(realm.mint({ claims: { iss: ALIAS } }))).status).toBe(200);
    for (const iss of [`${ALIAS}/`, ALIAS.toUpperCase(), ALIAS.replace('https', 'http')]) {
      expect((await get(realm.mint({ claims: { iss } }))).status).toBe(401);
    }
  });
});
