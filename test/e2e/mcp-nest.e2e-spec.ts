import { Controller, type INestApplication } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  McpController,
  McpHttpControllerFor,
  McpRawRequest,
  McpStrategy,
  StreamableHttpTransport,
  Tool,
  ToolScopes,
} from '@rekog/mcp-nest';
import { z } from 'zod';
import { Public, type VoxKeyClaims, VoxKeyModule } from '../../lib';
import { DevRealm, type DevClient } from '../../sample/dev-realm/dev-realm';
import { CaptureLogger } from '../support/capture-logger';
import { freePort } from '../support/free-port';

const READER = { clientId: 'reader', clientSecret: 'reader-secret', scope: 'read:posts' };
const WRITER = {
  clientId: 'writer',
  clientSecret: 'writer-secret',
  scope: 'read:posts write:posts',
};
const API = { clientId: 'api', clientSecret: 'api-secret', scope: 'read:posts' };

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };
type Caller = { sub?: string; clientId?: string; scope?: unknown };

/** The request mcp-nest hands a tool (`@McpRawRequest()`); `user` is what its checks read. */
type ToolRequest = { user?: VoxKeyClaims } | undefined;

/** The caller as the tool sees it, from the user VoxKey's guard set. */
function callerOf(req: ToolRequest): Caller {
  return { sub: req?.user?.sub, clientId: req?.user?.client_id, scope: req?.user?.scope };
}

function text(value: unknown): ToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

/**
 * Two tools with mcp-nest's own per-tool scope checks. They are microservice handlers of
 * mcp-nest's in-process strategy, reached only through the guarded `/mcp` route: `@Public()`
 * says VoxKey checks no token of their own, and keeps the start-up audit from reporting them.
 */
@Public()
@McpController()
class PostsTools {
  private readonly posts: { title: string; author?: string }[] = [
    { title: 'Hello VoxKey', author: 'seed' },
  ];

  @Tool({ name: 'list_posts', description: 'Lists the posts (needs read:posts)' })
  @ToolScopes(['read:posts'])
  list(@Payload() _args: unknown, @McpRawRequest() req?: ToolRequest): ToolResult {
    return text({ posts: this.posts, caller: callerOf(req) });
  }

  @Tool({
    name: 'create_post',
    description: 'Creates a post (needs write:posts)',
    parameters: z.object({ title: z.string().min(1).max(200) }),
  })
  @ToolScopes(['write:posts'])
  create(@Payload() { title }: { title: string }, @McpRawRequest() req?: ToolRequest): ToolResult {
    const post = { title, author: req?.user?.client_id };
    this.posts.push(post);
    return text({ post, caller: callerOf(req) });
  }
}

/** The value of one auth-param of a Bearer challenge. */
function param(challenge: string | null, name: string): string | undefined {
  return new RegExp(`${name}="([^"]*)"`).exec(challenge ?? '')?.[1];
}

function parsed<T>(result: unknown): T {
  return JSON.parse((result as ToolResult).content[0].text) as T;
}

/**
 * A development realm, and a Nest app with VoxKey (global guards, `resource` = its /mcp URL) and
 * mcp-nest serving the two tools at /mcp, with its 403 step-up challenge on.
 */
async function startMcpApp(adapter: 'express' | 'fastify', logs: CaptureLogger) {
  const port = await freePort();
  const resource = `http://127.0.0.1:${port}/mcp`;
  const metadataUrl = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
  const realm = await DevRealm.start({
    scopes: ['read:posts', 'write:posts'],
    clients: [READER, WRITER, API],
    resources: { [resource]: 'jwt' },
    introspector: API,
  });
  // mcp-nest cannot know VoxKey's metadata URL: named here, it goes into the 403 challenge.
  const transport = new StreamableHttpTransport({
    stepUpAuthorization: { resourceMetadataUrl: metadataUrl },
  });
  const strategy = new McpStrategy({ name: 'posts', version: '1.0.0', transports: [transport] });

  // The MCP endpoint as a Nest route, so the global VoxKeyAuthGuard runs on every request.
  @Controller('mcp')
  class McpHttpController extends McpHttpControllerFor(transport) {}

  let app: INestApplication | undefined;
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [
        VoxKeyModule.forRoot({
          domain: realm.domain,
          realm: realm.realm,
          resource,
          clientId: API.clientId,
          clientSecret: API.clientSecret,
        }),
      ],
      controllers: [McpHttpController, PostsTools],
    }).compile();
    app = moduleRef.createNestApplication(
      adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
      { logger: logs },
    );
    app.connectMicroservice({ strategy });
    await app.startAllMicroservices();
    await app.listen(port, '127.0.0.1');
  } catch (error) {
    await app?.close();
    await realm.close();
    throw error;
  }

  const tokens: string[] = [];
  const clients: Client[] = [];
  return {
    app,
    realm,
    resource,
    metadataUrl,
    tokens,
    /** A token from the realm's token endpoint, for this resource. */
    async tokenFor(client: DevClient, scope: string): Promise<string> {
      const res = await fetch(`${realm.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }),
      });
      expect(res.status).toBe(200);
      const token = ((await res.json()) as { access_token: string }).access_token;
      tokens.push(token);
      return token;
    },
    /** The SDK's own client, with a token (or none), every response it saw, and its connect error. */
    async connect(token?: string) {
      const responses: Response[] = [];
      const client = new Client({ name: 'voxkey-e2e', version: '1.0.0' });
      const error = await client
        .connect(
          new StreamableHTTPClientTransport(new URL(resource), {
            requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : undefined,
            fetch: async (input, init) => {
              const response = await fetch(input, init);
              responses.push(response);
              return response;
            },
          }),
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      if (error === undefined) clients.push(client);
      return { client, responses, error };
    },
    async close(): Promise<void> {
      for (const client of clients) await client.close();
      await app?.close();
      await realm.close();
    },
  };
}

describe('@rekog/mcp-nest behind the global VoxKeyAuthGuard (Express)', () => {
  const logs = new CaptureLogger();
  let mcp: Awaited<ReturnType<typeof startMcpApp>> | undefined;

  beforeAll(async () => {
    mcp = await startMcpApp('express', logs);
  });

  afterAll(async () => {
    await mcp?.close();
  });

  it('refuses a client without a token before mcp-nest runs: 401, Bearer, resource_metadata', async () => {
    const { error, responses } = await mcp!.connect();
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(401);
    const challenge = responses.at(-1)!.headers.get('www-authenticate');
    // The Bearer challenge first (the SDK reads only a leading one), then DPoP's.
    expect(challenge).toMatch(
      /^Bearer realm="[^"]*", resource_metadata="[^"]*", DPoP algs="[^"]+", resource_metadata="[^"]*"$/,
    );
    expect(param(challenge, 'resource_metadata')).toBe(mcp!.metadataUrl);
    // The document the challenge names is served beside mcp-nest's route.
    const document = (await (await fetch(mcp!.metadataUrl)).json()) as {
      resource: string;
      authorization_servers: string[];
    };
    expect(document.resource).toBe(mcp!.resource);
    expect(document.authorization_servers).toEqual([mcp!.realm.issuer]);
  });

  it('a read:posts token lists only list_posts (mcp-nest filters on req.user.scope) and runs it', async () => {
    const { client, error } = await mcp!.connect(await mcp!.tokenFor(READER, 'read:posts'));
    expect(error).toBeUndefined();
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['list_posts']);
    const result = await client.callTool({ name: 'list_posts', arguments: {} });
    expect((result as ToolResult).isError).toBeFalsy();
    const { posts, caller } = parsed<{ posts: { title: string }[]; caller: Caller }>(result);
    expect(posts.map((post) => post.title)).toContain('Hello VoxKey');
    // VoxKey's req.user: the token's claims, `scope` the space-delimited string mcp-nest splits.
    expect(caller).toEqual({ sub: 'reader', clientId: 'reader', scope: 'read:posts' });
  });

  it('refuses create_post to a read-only token with mcp-nest’s 403 step-up challenge', async () => {
    const { client, responses } = await mcp!.connect(await mcp!.tokenFor(READER, 'read:posts'));
    const error = await client.callTool({ name: 'create_post', arguments: { title: 'nope' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(403);
    // The body is a JSON-RPC error for the call, so the client can match it to its request.
    expect((error as Error).message).toContain("Tool 'create_post' requires scopes: write:posts");
    const refused = responses.at(-1)!;
    expect(refused.status).toBe(403);
    const challenge = refused.headers.get('www-authenticate');
    expect(challenge).toMatch(/^Bearer /);
    expect(param(challenge, 'error')).toBe('insufficient_scope');
    expect(param(challenge, 'scope')).toBe('write:posts');
    expect(param(challenge, 'resource_metadata')).toBe(mcp!.metadataUrl);
  });

  it('a write:posts token sees both tools, and create_post runs as that client', async () => {
    const { client } = await mcp!.connect(await mcp!.tokenFor(WRITER, 'read:posts write:posts'));
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['create_post', 'list_posts']);
    const result = await client.callTool({ name: 'create_post', arguments: { title: 'From MCP' } });
    expect((result as ToolResult).isError).toBeFalsy();
    const { post, caller } = parsed<{ post: { title: string; author: string }; caller: Caller }>(
      result,
    );
    expect(post).toEqual({ title: 'From MCP', author: 'writer' });
    expect(caller.sub).toBe('writer');
    expect(String(caller.scope).split(' ').sort()).toEqual(['read:posts', 'write:posts']);
    // The refused call of the previous test never reached its tool.
    const listed = await client.callTool({ name: 'list_posts', arguments: {} });
    const { posts } = parsed<{ posts: { title: string }[] }>(listed);
    expect(posts.map((p) => p.title)).toEqual(['Hello VoxKey', 'From MCP']);
  });

  it('the start-up audit does not report the @Public() tools as unguarded handlers', () => {
    expect(logs.lines.some((line) => line.includes('McpStrategy'))).toBe(true);
    // Only the route audit's summary: no finding.
    expect(
      logs.lines.filter((line) => line.includes('VoxKeyAudit') && !line.startsWith('debug ')),
    ).toEqual([expect.stringMatching(/^log VoxKey routes: .*; 0 findings VoxKeyAudit$/)]);
  });

  it('logs no token', () => {
    expect(mcp!.tokens.length).toBeGreaterThan(0);
    for (const line of logs.lines) for (const t of mcp!.tokens) expect(line).not.toContain(t);
  });
});

describe('@rekog/mcp-nest behind the global VoxKeyAuthGuard (Fastify)', () => {
  const logs = new CaptureLogger();
  let mcp: Awaited<ReturnType<typeof startMcpApp>> | undefined;

  beforeAll(async () => {
    mcp = await startMcpApp('fastify', logs);
  });

  afterAll(async () => {
    await mcp?.close();
  });

  // mcp-nest 2.0.5 reads the user from the Node request (`req.raw.user`), while Nest guards,
  // VoxKey's as mcp-nest's own, set it on the Fastify request: its per-tool checks see no user.
  it('authenticates the route, but mcp-nest’s per-tool checks do not see the user', async () => {
    const { error } = await mcp!.connect();
    expect((error as StreamableHTTPError).code).toBe(401);
    const { client } = await mcp!.connect(await mcp!.tokenFor(WRITER, 'read:posts write:posts'));
    const { tools } = await client.listTools();
    expect(tools).toEqual([]);
    const refused = await client.callTool({ name: 'list_posts', arguments: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((refused as Error).message).toContain("Tool 'list_posts' requires authentication");
  });
});
