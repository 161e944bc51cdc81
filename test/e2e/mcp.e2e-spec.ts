import { Controller, type INestApplication, Post, Req, Res } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { VoxKeyModule } from '../../lib';
import { McpController } from '../../sample/mcp.controller';
import { PostsStore } from '../../sample/posts.store';
import { CaptureLogger } from '../support/capture-logger';
import { JWT_RESOURCE, OidcRealm } from '../support/oidc-realm';

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };

/** The SDK's own client, with a token (or none), and every response it saw. */
async function connect(url: string, token?: string) {
  const responses: Response[] = [];
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : undefined,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      responses.push(response);
      return response;
    },
  });
  const client = new Client({ name: 'voxkey-e2e', version: '1.0.0' });
  await client.connect(transport);
  return { client, responses };
}

async function connectError(url: string, token?: string): Promise<unknown> {
  return connect(url, token).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('the sample MCP server (@modelcontextprotocol/sdk) behind VoxKeyAuthGuard', () => {
  let realm: OidcRealm;
  let app: INestApplication | undefined;
  let url: string;
  const logs = new CaptureLogger();
  const clients: Client[] = [];
  const tokens: string[] = [];

  beforeAll(async () => {
    realm = await OidcRealm.start();
    const moduleRef = await Test.createTestingModule({
      imports: [
        VoxKeyModule.forRoot(
          realm.moduleOptions({ resources: [{ id: 'mcp', resource: JWT_RESOURCE }] }),
        ),
      ],
      controllers: [McpController],
      providers: [PostsStore],
    }).compile();
    app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: logs });
    app.useLogger(logs);
    await app.listen(0, '127.0.0.1');
    url = `${await app.getUrl()}/mcp`.replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    await app?.close();
    await realm?.close();
  });

  async function token(scope: string): Promise<string> {
    const issued = await realm.issueToken({ scope });
    tokens.push(issued);
    return issued;
  }

  async function client(scope: string) {
    const connected = await connect(url, await token(scope));
    clients.push(connected.client);
    return connected;
  }

  it('refuses a client without a token with a 401 Bearer challenge', async () => {
    const error = await connectError(url);
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(401);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });

  it('lists both tools to a token of any scope', async () => {
    const { client: mcp } = await client('read:posts');
    const { tools } = await mcp.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['create_post', 'list_posts']);
  });

  it('runs list_posts for a read:posts token: the tool saw req.auth as extra.authInfo', async () => {
    const { client: mcp } = await client('read:posts');
    const result = (await mcp.callTool({ name: 'list_posts', arguments: {} })) as ToolResult;
    expect(result.isError).toBeFalsy();
    expect(JSON.parse(result.content[0].text)).toEqual(
      expect.arrayContaining([expect.objectContaining({ title: 'Hello VoxKey' })]),
    );
  });

  it('refuses create_post to a read-only token with an HTTP 403 naming write:posts', async () => {
    const { client: mcp, responses } = await client('read:posts');
    const error = await mcp.callTool({ name: 'create_post', arguments: { title: 'x' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(403);
    const refused = responses.at(-1)!;
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="[^"]*", resource_metadata="https:\/\/api\.example\.test\/\.well-known\/oauth-protected-resource\/v1", error="insufficient_scope", error_description="[^"]*", scope="write:posts"$/,
    );
  });

  it('runs create_post for a write:posts token, with the caller from authInfo.clientId', async () => {
    const { client: mcp } = await client('read:posts write:posts');
    const result = (await mcp.callTool({
      name: 'create_post',
      arguments: { title: 'From MCP' },
    })) as ToolResult;
    expect(result.isError).toBeFalsy();
    expect(JSON.parse(result.content[0].text)).toMatchObject({
      title: 'From MCP',
      author: realm.m2mClient.clientId,
    });
  });

  it('answers GET and DELETE with 405 (stateless: no stream, no session)', async () => {
    const headers = { authorization: `Bearer ${await token('read:posts')}` };
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(url, { method, headers });
      expect({ method, status: res.status }).toEqual({ method, status: 405 });
      expect(res.headers.get('allow')).toBe('POST');
    }
  });

  it('logs no token', () => {
    expect(tokens.length).toBeGreaterThan(0);
    for (const line of logs.lines) for (const t of tokens) expect(line).not.toContain(t);
  });
});

/** An SDK server on Fastify: handed the Node request (`req.raw`), which the guard also fills. */
@Controller('mcp')
class FastifyMcpController {
  @Post()
  async handle(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const server = new McpServer({ name: 'fastify', version: '1.0.0' });
    server.registerTool('whoami', {}, ({ authInfo }) => ({
      content: [
        {
          type: 'text',
          text: JSON.stringify({
            clientId: authInfo?.clientId,
            scopes: authInfo?.scopes,
            expiresAt: authInfo?.expiresAt,
            resource: authInfo?.resource?.href,
            realm: authInfo?.extra?.realm,
            sameToken: authInfo?.token === req.headers.authorization?.slice(7),
          }),
        },
      ],
    }));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    reply.hijack();
    reply.raw.on('close', () => void server.close());
    await server.connect(transport);
    await transport.handleRequest(req.raw, reply.raw, req.body);
  }
}

describe('req.auth for the SDK on Fastify (req.raw)', () => {
  let realm: OidcRealm;
  let app: NestFastifyApplication | undefined;
  let client: Client | undefined;

  beforeAll(async () => {
    realm = await OidcRealm.start();
    const moduleRef = await Test.createTestingModule({
      imports: [
        VoxKeyModule.forRoot(
          realm.moduleOptions({ resources: [{ id: 'mcp', resource: JWT_RESOURCE }] }),
        ),
      ],
      controllers: [FastifyMcpController],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await realm?.close();
  });

  it("hands the tools the guard's AuthInfo", async () => {
    const address = app!.getHttpServer().address() as { port: number };
    const connected = await connect(
      `http://127.0.0.1:${address.port}/mcp`,
      await realm.issueToken({ scope: 'read:posts users:read' }),
    );
    client = connected.client;
    const result = (await client.callTool({ name: 'whoami', arguments: {} })) as ToolResult;
    const seen = JSON.parse(result.content[0].text) as Record<string, unknown>;
    expect(seen).toEqual({
      clientId: realm.m2mClient.clientId,
      scopes: ['read:posts', 'users:read'],
      expiresAt: expect.any(Number),
      resource: new URL(JWT_RESOURCE).href,
      realm: 'default',
      sameToken: true,
    });
  });
});
