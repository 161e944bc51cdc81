import { DevRealm } from './dev-realm';

/** A fixed realm UUID, so the printed commands stay the same from one start to the next. */
export const SAMPLE_REALM = '5a3f6c1e-2b7d-4e8a-9c0f-1d2e3f4a5b6c';
export const DEMO_CLIENT = {
  clientId: 'demo-client',
  clientSecret: 'demo-secret',
  scope: 'read:posts write:posts admin:tokens',
};
/** The API's own client: introspection, revocation, and M2M calls to itself. */
export const API_CLIENT = {
  clientId: 'sample-api',
  clientSecret: 'sample-api-secret',
  scope: 'read:posts',
};

/** The MCP server's resource URI, next to the API's: the URL an MCP client connects to. */
export function mcpResourceOf(apiUrl: string): string {
  return `${apiUrl}/mcp`;
}

/**
 * Starts the development realm the sample uses when no VOXKEY_DOMAIN is set. It issues tokens
 * for two resources (RFC 8707): the API at `apiUrl` (the default) and its MCP server.
 */
export function startSampleRealm(port: number, apiUrl: string): Promise<DevRealm> {
  return DevRealm.start({
    port,
    realm: SAMPLE_REALM,
    scopes: ['read:posts', 'write:posts', 'admin:tokens'],
    clients: [DEMO_CLIENT, API_CLIENT],
    resources: { [apiUrl]: 'jwt', [mcpResourceOf(apiUrl)]: 'jwt' },
    // A client that sends a DPoP proof to the token endpoint gets a DPoP-bound token (RFC 9449).
    dpop: true,
    introspector: API_CLIENT,
  });
}

/**
 * The copy-paste walkthrough printed at start-up. Each request line ends with the status it
 * should get (`# expect NNN`); the sample's e2e test follows these lines literally.
 */
export function instructions(apiUrl: string, realm: DevRealm): string {
  const mcpUrl = mcpResourceOf(apiUrl);
  const token = (scope: string, resource = apiUrl) =>
    `curl -s -u ${DEMO_CLIENT.clientId}:${DEMO_CLIENT.clientSecret} -d grant_type=client_credentials` +
    ` -d "scope=${scope}" -d resource=${resource} ${realm.issuer}/token` +
    ` | node -pe "JSON.parse(require('fs').readFileSync(0, 'utf8')).access_token"`;
  const bearer = (name: string) => `-H "Authorization: Bearer $${name}"`;
  const json = `-H "content-type: application/json"`;
  // A GraphQL request body, for a single-quoted shell word.
  const gql = (query: string) => JSON.stringify({ query });
  // An MCP (Streamable HTTP) request: a JSON-RPC body, and both answer types accepted.
  const mcp = (method: string, params?: object) =>
    `-H "content-type: application/json" -H "accept: application/json, text/event-stream"` +
    ` -d '${JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params ? { params } : {}) })}'`;
  const call = (name: string, args: object = {}) => mcp('tools/call', { name, arguments: args });
  return [
    `Development realm (oidc-provider): ${realm.issuer}`,
    `  demo client: ${DEMO_CLIENT.clientId} / ${DEMO_CLIENT.clientSecret}  (scopes: ${DEMO_CLIENT.scope})`,
    `  resources:   ${apiUrl} (the API), ${mcpUrl} (its MCP server)`,
    '',
    'Try it (bash):',
    '',
    '  # 1. Get tokens with the client credentials grant: one with every scope, one read-only',
    `  TOKEN=$(${token(DEMO_CLIENT.scope)})`,
    `  READ_TOKEN=$(${token('read:posts')})`,
    '  # and two for the MCP server, a resource of its own: its tokens name it in `aud`',
    `  MCP_TOKEN=$(${token(DEMO_CLIENT.scope, mcpUrl)})`,
    `  MCP_READ_TOKEN=$(${token('read:posts', mcpUrl)})`,
    '',
    '  # 2. Call the API',
    `  curl -i ${apiUrl}/health                                    # expect 200`,
    `  curl -i ${apiUrl}/health/ready                              # expect 200 (the realm's keys are loaded)`,
    `  curl -i ${apiUrl}/posts                                     # expect 401 (no token)`,
    `  curl -i ${bearer('TOKEN')} ${apiUrl}/posts                  # expect 200`,
    `  curl -i ${bearer('TOKEN')} ${apiUrl}/me                     # expect 200`,
    `  curl -i ${apiUrl}/posts/feed                                # expect 200 (anonymous)`,
    `  curl -i ${bearer('TOKEN')} ${apiUrl}/posts/feed             # expect 200 (personalised)`,
    `  curl -i -X POST ${bearer('TOKEN')} ${json} -d '{"title":"Hi"}' ${apiUrl}/posts       # expect 201`,
    `  curl -i -X POST ${bearer('READ_TOKEN')} ${json} -d '{"title":"Hi"}' ${apiUrl}/posts  # expect 403 (no write:posts)`,
    `  curl -i ${bearer('READ_TOKEN')} ${apiUrl}/posts/via-m2m     # expect 200`,
    `  curl -i ${bearer('READ_TOKEN')} ${apiUrl}/posts/live        # expect 200`,
    '',
    '  # 3. The same posts over GraphQL: always HTTP 200, refusals as errors[].extensions.code',
    `  curl -i -X POST ${json} -d '${gql('{ posts { id title } }')}' ${apiUrl}/graphql  # expect 200 UNAUTHENTICATED`,
    `  curl -i -X POST ${bearer('READ_TOKEN')} ${json} -d '${gql('{ posts { id title } }')}' ${apiUrl}/graphql  # expect 200`,
    `  curl -i -X POST ${bearer('READ_TOKEN')} ${json} -d '${gql('mutation { createPost(title: "Hi") { id } }')}' ${apiUrl}/graphql  # expect 200 FORBIDDEN`,
    `  curl -i -X POST ${bearer('TOKEN')} ${json} -d '${gql('mutation { createPost(title: "Hi") { id } }')}' ${apiUrl}/graphql  # expect 200`,
    '',
    '  # 4. The MCP server (POST /mcp, built with @modelcontextprotocol/sdk). A 401 names its metadata',
    '  #    document (resource_metadata=), which names the realm; a 403 names the missing scope',
    `  curl -i -X POST ${mcp('tools/list')} ${mcpUrl}  # expect 401 (no token)`,
    `  curl -i ${apiUrl}/.well-known/oauth-protected-resource/mcp  # expect 200 (RFC 9728)`,
    `  curl -i -X POST ${bearer('READ_TOKEN')} ${mcp('tools/list')} ${mcpUrl}  # expect 401 (a token for the API, not for /mcp)`,
    `  curl -i -X POST ${bearer('MCP_READ_TOKEN')} ${mcp('tools/list')} ${mcpUrl}  # expect 200`,
    `  curl -i -X POST ${bearer('MCP_READ_TOKEN')} ${call('list_posts')} ${mcpUrl}  # expect 200`,
    `  curl -i -X POST ${bearer('MCP_READ_TOKEN')} ${call('create_post', { title: 'Hi' })} ${mcpUrl}  # expect 403 (scope="write:posts")`,
    `  curl -i -X POST ${bearer('MCP_TOKEN')} ${call('create_post', { title: 'Hi' })} ${mcpUrl}  # expect 200`,
    "  # or an MCP client (MCP Inspector, the SDK's Client) at that URL: it finds the realm on its own",
    '',
    '  # 5. Revoke the read-only token; it is refused at once',
    `  curl -i -X POST ${bearer('TOKEN')} ${json} -d "{\\"token\\":\\"$READ_TOKEN\\"}" ${apiUrl}/admin/revoke  # expect 200`,
    `  curl -i ${bearer('READ_TOKEN')} ${apiUrl}/posts/live        # expect 401 (revoked)`,
    '',
  ].join('\n');
}
