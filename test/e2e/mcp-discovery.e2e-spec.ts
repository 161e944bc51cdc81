import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { VoxKeyModule } from '../../lib';
import { DevRealm } from '../../sample/dev-realm/dev-realm';
import { McpController } from '../../sample/mcp.controller';
import { PostsStore } from '../../sample/posts.store';
import { freePort } from '../support/free-port';

const CLIENT = { clientId: 'agent', clientSecret: 'agent-secret', scope: 'read:posts write:posts' };
const API = { clientId: 'api', clientSecret: 'api-secret', scope: 'read:posts' };

/** The value of one auth-param of a Bearer challenge. */
function param(challenge: string | null, name: string): string | undefined {
  return new RegExp(`${name}="([^"]*)"`).exec(challenge ?? '')?.[1];
}

describe('an MCP client discovers the realm from the challenge, then calls the tools', () => {
  let realm: DevRealm | undefined;
  let app: INestApplication | undefined;
  let apiUrl: string;
  let resource: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    resource = `${apiUrl}/mcp`;
    realm = await DevRealm.start({
      scopes: ['read:posts', 'write:posts'],
      clients: [CLIENT, API],
      resources: { [resource]: 'jwt' },
      introspector: API,
    });
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
      controllers: [McpController],
      providers: [PostsStore],
    }).compile();
    app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    await app.listen(port, '127.0.0.1');
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    await app?.close();
    await realm?.close();
  });

  it('401 → resource_metadata → authorization_servers → token → tools: 200, then 403 with scope=', async () => {
    // 1. No token: a 401 whose Bearer challenge names the metadata document.
    const responses: Response[] = [];
    const recording = async (input: string | URL, init?: RequestInit) => {
      const response = await fetch(input, init);
      responses.push(response);
      return response;
    };
    const anonymous = new Client({ name: 'e2e', version: '1.0.0' });
    const refused = await anonymous
      .connect(new StreamableHTTPClientTransport(new URL(resource), { fetch: recording }))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect((refused as StreamableHTTPError).code).toBe(401);
    const challenge = responses.at(-1)!.headers.get('www-authenticate');
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).not.toContain('error=');
    const metadataUrl = param(challenge, 'resource_metadata');
    expect(metadataUrl).toBe(`${apiUrl}/.well-known/oauth-protected-resource/mcp`);

    // 2. The document names this resource and the realm.
    const document = (await (await fetch(metadataUrl!)).json()) as {
      resource: string;
      authorization_servers: string[];
    };
    expect(document.resource).toBe(resource);
    expect(document.authorization_servers).toEqual([realm!.issuer]);

    // 3. A token from that realm's token endpoint, read from its own metadata.
    const issuer = document.authorization_servers[0];
    const asMetadata = (await (
      await fetch(`${issuer}/.well-known/openid-configuration`)
    ).json()) as { token_endpoint: string };
    const tokenFor = async (scope: string) => {
      const res = await fetch(asMetadata.token_endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }),
      });
      return ((await res.json()) as { access_token: string }).access_token;
    };

    // 4. List the tools, call the first (200), the second without its scope (403 with scope=).
    const seen: Response[] = [];
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    clients.push(client);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(resource), {
        requestInit: { headers: { authorization: `Bearer ${await tokenFor('read:posts')}` } },
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          seen.push(response);
          return response;
        },
      }),
    );
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['create_post', 'list_posts']);
    const listed = (await client.callTool({ name: 'list_posts', arguments: {} })) as {
      isError?: boolean;
    };
    expect(listed.isError).toBeFalsy();
    expect(seen.at(-1)!.status).toBe(200);
    const error = await client.callTool({ name: 'create_post', arguments: { title: 'x' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as StreamableHTTPError).code).toBe(403);
    const stepUp = seen.at(-1)!.headers.get('www-authenticate');
    expect(stepUp).toMatch(/^Bearer /);
    expect(param(stepUp, 'error')).toBe('insufficient_scope');
    expect(param(stepUp, 'scope')).toBe('write:posts');
    expect(param(stepUp, 'resource_metadata')).toBe(metadataUrl);
  });
});
