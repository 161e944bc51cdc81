import { Controller, Get, type INestApplication, Post, Req } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  AnyScope,
  Public,
  Resource,
  Scopes,
  VoxKeyModule,
  type McpAuthInfo,
  type VoxKeyModuleOptions,
} from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { CaptureLogger } from '../support/capture-logger';
import { PLATFORMS, type Platform } from '../support/app';
import { createGraphQLApp, graphqlModule, postGraphQL } from '../support/graphql-app';
import { PostsResolver } from '../support/graphql-resolvers';
import { SUPPORTED_ALGORITHMS } from '../../lib/voxkey.constants';

/** With resources of one origin DPoP is on: every 401 ends with the DPoP challenge. */
const dpop = (metadata: string) =>
  `, DPoP algs="${SUPPORTED_ALGORITHMS.join(' ')}", resource_metadata="${metadata}"`;

const MCP = 'https://api.example.com/mcp';
const ORIGIN = 'https://api.example.com';
const MCP_METADATA = 'https://api.example.com/.well-known/oauth-protected-resource/mcp';
const ORIGIN_METADATA = 'https://api.example.com/.well-known/oauth-protected-resource';

@Resource(MCP)
@Controller('mcp')
class McpController {
  @Scopes('read:posts')
  @Get()
  read(): { ok: boolean } {
    return { ok: true };
  }

  @Scopes('write:posts')
  @AnyScope('admin', 'owner')
  @Post()
  write(): { ok: boolean } {
    return { ok: true };
  }

  @Public()
  @Get('public')
  open(): string {
    return 'open';
  }

  /** What the MCP SDK's handlers would read as `extra.authInfo.resource`. */
  @Scopes('read:posts')
  @Get('auth')
  auth(@Req() req: { auth?: McpAuthInfo }): { resource?: string } {
    return { resource: req.auth?.resource?.href };
  }
}

/** A route under no resource (several are configured, and no `@Resource()` here). */
@Controller('plain')
class PlainController {
  @Get('auth')
  auth(@Req() req: { auth?: McpAuthInfo }): { resource?: string } {
    return { resource: req.auth?.resource?.href };
  }
}

@Resource(ORIGIN)
@Controller('api')
class ApiController {
  @Scopes('read:api')
  @Get()
  read(): { ok: boolean } {
    return { ok: true };
  }
}

/** Boots an application with a global prefix set before init, as applications do. */
async function boot(
  platform: Platform,
  options: VoxKeyModuleOptions,
  controllers: (new () => unknown)[],
  logger: CaptureLogger,
  prefix?: string,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [VoxKeyModule.forRoot(options)],
    controllers,
  })
    .setLogger(logger)
    .compile();
  const app = moduleRef.createNestApplication(
    platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
    { logger },
  );
  if (prefix !== undefined) app.setGlobalPrefix(prefix);
  try {
    await app.listen(0, '127.0.0.1');
    if (platform === 'fastify') {
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    }
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}

describe.each(PLATFORMS)('RFC 9728 protected resources on %s', (platform) => {
  const logger = new CaptureLogger();
  const tokens: string[] = [];
  let realm: VoxKeyTestRealm;
  let app: INestApplication;

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start({ audience: MCP });
    // No `audience`: the realm's audiences default to the resources' URIs.
    const options = realm.moduleOptions({ audience: undefined });
    app = await boot(
      platform,
      {
        ...options,
        resources: [
          {
            resource: MCP,
            resourceName: 'Posts MCP server',
            resourceDocumentation: 'https://docs.example.com/mcp',
            resourcePolicyUri: 'https://example.com/policy',
            resourceTosUri: 'https://example.com/tos',
            extra: { resource_signing_alg_values_supported: ['RS256'] },
          },
          { resource: ORIGIN },
        ],
        resourceMetadata: { maxAgeSec: 600 },
      },
      [McpController, ApiController, PlainController],
      logger,
      'v1',
    );
  });
  afterAll(async () => {
    await app?.close();
    await realm?.close();
  });

  const mint = (...args: Parameters<VoxKeyTestRealm['mint']>): string => {
    const token = realm.mint(...args);
    tokens.push(token);
    return token;
  };
  const http = () => request(app.getHttpServer());

  it('serves the document of a resource with a path at the well-known path plus that path, every field', async () => {
    const res = await http().get('/.well-known/oauth-protected-resource/mcp');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('public, max-age=600');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(JSON.parse(res.text)).toEqual({
      resource: MCP,
      authorization_servers: [realm.issuer],
      // The union of what the resource's routes declare; not the other resource's.
      scopes_supported: ['admin', 'owner', 'read:posts', 'write:posts'],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: [...SUPPORTED_ALGORITHMS],
      resource_name: 'Posts MCP server',
      resource_documentation: 'https://docs.example.com/mcp',
      resource_policy_uri: 'https://example.com/policy',
      resource_tos_uri: 'https://example.com/tos',
      resource_signing_alg_values_supported: ['RS256'],
    });
  });

  it('serves an origin-only resource at the bare well-known path, its URI without a trailing slash', async () => {
    const res = await http().get('/.well-known/oauth-protected-resource');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({
      resource: ORIGIN,
      authorization_servers: [realm.issuer],
      scopes_supported: ['read:api'],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: [...SUPPORTED_ALGORITHMS],
    });
  });

  it('answers HEAD with the headers and no body, and other methods with 405 and Allow', async () => {
    const head = await http().head('/.well-known/oauth-protected-resource/mcp');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toMatch(/^application\/json/);
    expect(head.headers['cache-control']).toBe('public, max-age=600');
    expect(head.text ?? '').toBe('');
    for (const method of ['post', 'put', 'delete', 'patch'] as const) {
      const res = await http()[method]('/.well-known/oauth-protected-resource/mcp');
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, OPTIONS');
    }
  });

  it.each(['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource'])(
    "answers a browser MCP client's CORS preflight of %s with 204 and headers that let its GET through",
    async (path) => {
      const res = await http()
        .options(path)
        .set('Origin', 'https://inspector.example.com')
        .set('Access-Control-Request-Method', 'GET')
        .set('Access-Control-Request-Headers', 'mcp-protocol-version');
      expect(res.status).toBe(204);
      expect(res.text ?? '').toBe('');
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
      const allowed = res.headers['access-control-allow-headers'].split(/\s*,\s*/);
      expect(allowed.map((h: string) => h.toLowerCase())).toEqual(
        expect.arrayContaining(['mcp-protocol-version', 'authorization', '*']),
      );
      expect(res.headers['access-control-max-age']).toBe('600');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      // The GET the preflight cleared: readable from any origin.
      const get = await http()
        .get(path)
        .set('Origin', 'https://inspector.example.com')
        .set('MCP-Protocol-Version', '2025-06-18');
      expect(get.status).toBe(200);
      expect(get.headers['access-control-allow-origin']).toBe('*');
    },
  );

  it('is the same document whatever Host and X-Forwarded-Host say', async () => {
    const plain = await http().get('/.well-known/oauth-protected-resource/mcp');
    const spoofed = await http()
      .get('/.well-known/oauth-protected-resource/mcp')
      .set('Host', 'evil.test')
      .set('X-Forwarded-Host', 'evil.test')
      .set('X-Forwarded-Proto', 'http');
    expect(spoofed.status).toBe(200);
    expect(spoofed.text).toBe(plain.text);
    expect(spoofed.text).not.toContain('evil.test');
  });

  it('stays at the origin root under a global prefix, which applies to the routes only', async () => {
    expect((await http().get('/v1/.well-known/oauth-protected-resource/mcp')).status).toBe(404);
    expect((await http().get('/.well-known/oauth-protected-resource/admin')).status).toBe(404);
    expect((await http().get('/v1/mcp/public')).status).toBe(200);
  });

  it('401 without credentials: realm, resource_metadata and the route scopes, no error', async () => {
    const res = await http().get('/v1/mcp').set('X-Forwarded-Host', 'evil.test');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer realm="${MCP}", resource_metadata="${MCP_METADATA}", scope="read:posts"${dpop(MCP_METADATA)}`,
    );
    const api = await http().get('/v1/api');
    expect(api.headers['www-authenticate']).toBe(
      `Bearer realm="${MCP}", resource_metadata="${ORIGIN_METADATA}", scope="read:api"${dpop(ORIGIN_METADATA)}`,
    );
  });

  it('401 invalid_token with resource_metadata for a token of another resource of the same realm, cached or not', async () => {
    const other = mint({ scope: 'read:posts', claims: { aud: ORIGIN } });
    for (let i = 0; i < 2; i++) {
      const res = await http().get('/v1/mcp').set('Authorization', `Bearer ${other}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(
        `Bearer realm="${MCP}", resource_metadata="${MCP_METADATA}", error="invalid_token", error_description="The access token audience is not accepted", scope="read:posts"${dpop(MCP_METADATA)}`,
      );
    }
    // The same token where its audience is the route's resource: accepted.
    const onApi = mint({ scope: 'read:api', claims: { aud: ORIGIN } });
    expect((await http().get('/v1/api').set('Authorization', `Bearer ${onApi}`)).status).toBe(200);
    const mcpOnApi = mint({ scope: 'read:api' });
    expect((await http().get('/v1/api').set('Authorization', `Bearer ${mcpOnApi}`)).status).toBe(
      401,
    );
    // A trailing slash is another string.
    const slash = mint({ scope: 'read:posts', claims: { aud: `${MCP}/` } });
    expect((await http().get('/v1/mcp').set('Authorization', `Bearer ${slash}`)).status).toBe(401);
  });

  it('accepts a token whose aud names the route resource among others', async () => {
    const token = mint({ scope: 'read:posts', claims: { aud: [ORIGIN, MCP] } });
    const res = await http().get('/v1/mcp').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
  });

  it("sets req.auth.resource to the route's resource, not the token's first accepted audience", async () => {
    const token = mint({ scope: 'read:posts', claims: { aud: [ORIGIN, MCP] } });
    const res = await http().get('/v1/mcp/auth').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ resource: MCP });
    // Off any resource, the first audience the realm accepts, as before.
    const plain = await http().get('/v1/plain/auth').set('Authorization', `Bearer ${token}`);
    expect(plain.status).toBe(200);
    expect(plain.body).toEqual({ resource: `${ORIGIN}/` });
    const reversed = mint({ claims: { aud: [MCP, ORIGIN] } });
    const other = await http().get('/v1/plain/auth').set('Authorization', `Bearer ${reversed}`);
    expect(other.body).toEqual({ resource: MCP });
  });

  it('403 insufficient_scope with every scope the route needs in one scope= and resource_metadata', async () => {
    const token = mint({ scope: 'read:posts' });
    const res = await http().post('/v1/mcp').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer realm="${MCP}", resource_metadata="${MCP_METADATA}", error="insufficient_scope", error_description="The access token lacks a required scope", scope="write:posts admin owner"`,
    );
  });

  it('never logs a token', () => {
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const token of tokens) {
      for (const part of token.split('.')) {
        for (const line of logger.lines) expect(line).not.toContain(part);
      }
    }
  });
});

describe('RFC 9728 start-up checks', () => {
  let realm: VoxKeyTestRealm;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start({ audience: MCP });
  });
  afterAll(async () => {
    await realm?.close();
  });

  const options = (extra: Partial<VoxKeyModuleOptions>): VoxKeyModuleOptions => {
    return realm.moduleOptions({ audience: undefined, ...extra });
  };

  it.each([
    ['http://api.example.com/mcp', `'resource' must use https`],
    ['https://api.example.com/mcp#x', `'resource' must not have a fragment`],
    ['/mcp', `'resource' must be an absolute URI`],
    ['https://API.example.com/mcp', `'resource' must be written in canonical form`],
  ])('refuses resource %s', async (resource, message) => {
    await expect(
      Test.createTestingModule({ imports: [VoxKeyModule.forRoot(options({ resource }))] })
        .setLogger(new CaptureLogger())
        .compile(),
    ).rejects.toThrow(message);
  });

  it('allows plain http for loopback, and warns of a query and of a trailing slash', async () => {
    const logger = new CaptureLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [
        VoxKeyModule.forRoot(
          options({
            resources: [
              { resource: 'http://127.0.0.1:3000/mcp' },
              { resource: 'https://api.example.com/q?tenant=1' },
              { resource: 'https://api.example.com/slash/' },
            ],
          }),
        ),
      ],
    })
      .setLogger(logger)
      .compile();
    await moduleRef.close();
    const warnings = logger.lines.filter((line) => line.startsWith('warn'));
    expect(warnings.some((line) => line.includes(`'resources[1].resource' has a query`))).toBe(
      true,
    );
    expect(
      warnings.some((line) => line.includes(`'resources[2].resource' ends with a slash`)),
    ).toBe(true);
  });

  it('stops the application when @Resource() names a resource that is not configured', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [VoxKeyModule.forRoot(options({ resource: ORIGIN }))],
      controllers: [McpController],
    })
      .setLogger(new CaptureLogger())
      .compile();
    const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    await expect(app.init()).rejects.toThrow(
      `@Resource() names resources that are not configured: McpController ('${MCP}')`,
    );
    await app.close().catch(() => undefined);
  });
});

describe('RFC 9728 challenges in GraphQL errors (apollo-express)', () => {
  let realm: VoxKeyTestRealm;
  let gql: Awaited<ReturnType<typeof createGraphQLApp>>;
  const GRAPHQL = 'https://api.example.com/graphql';
  const METADATA = 'https://api.example.com/.well-known/oauth-protected-resource/graphql';

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start({ audience: GRAPHQL });
    const options = realm.moduleOptions({ audience: undefined });
    gql = await createGraphQLApp(
      'apollo-express',
      [VoxKeyModule.forRoot({ ...options, resource: GRAPHQL }), graphqlModule('apollo-express')],
      [PostsResolver],
      new CaptureLogger(),
    );
  });
  afterAll(async () => {
    await gql?.app.close();
    await realm?.close();
  });

  it('carries the challenge in the extensions and the header, the same string', async () => {
    const res = await postGraphQL(gql.url, '{ posts { id } }');
    const challenge = `Bearer realm="${GRAPHQL}", resource_metadata="${METADATA}", scope="read:posts"${dpop(METADATA)}`;
    expect(res.headers.get('www-authenticate')).toBe(challenge);
    expect(res.body.errors?.[0].extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      statusCode: 401,
      scope: 'read:posts',
      resourceMetadata: METADATA,
      wwwAuthenticate: challenge,
    });
  });

  it('403 in the extensions, with resource_metadata and the scope', async () => {
    const token = realm.mint({ scope: 'read:posts' });
    const res = await postGraphQL(
      gql.url,
      'mutation { createPost(title: "x") { id } }',
      `Bearer ${token}`,
    );
    expect(res.body.errors?.[0].extensions).toMatchObject({
      statusCode: 403,
      oauthError: 'insufficient_scope',
      scope: 'write:posts',
      wwwAuthenticate: `Bearer realm="${GRAPHQL}", resource_metadata="${METADATA}", error="insufficient_scope", error_description="The access token lacks a required scope", scope="write:posts"`,
    });
  });
});
