import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createClient } from 'graphql-ws';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { DEMO_CLIENT } from '../../sample/dev-realm/sample-realm';
import { OidcRealm, JWT_RESOURCE } from '../support/oidc-realm';

const ROOT = join(__dirname, '../..');

/** A started child process whose output is collected, and that is always stopped. */
class Child {
  output = '';
  readonly exited: Promise<number | null>;
  constructor(readonly process: ChildProcess) {
    process.stdout?.on('data', (chunk) => (this.output += chunk));
    process.stderr?.on('data', (chunk) => (this.output += chunk));
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
  }

  static start(command: string, args: string[], env: Record<string, string>): Child {
    // detached: its own process group, so npm, the shell and node all get the signal.
    return new Child(
      spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, detached: true }),
    );
  }

  async waitFor(text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(text)) {
      if (Date.now() > deadline || this.process.exitCode !== null) {
        throw new Error(`"${text}" not printed; output so far:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Ctrl-C, then SIGKILL if it has not exited within five seconds. */
  async stop(): Promise<number | null> {
    if (this.process.exitCode === null && this.process.pid) {
      try {
        globalThis.process.kill(-this.process.pid, 'SIGINT');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          globalThis.process.kill(-this.process.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      const code = await this.exited;
      clearTimeout(timer);
      return code;
    }
    return this.process.exitCode;
  }
}

/** Splits a shell command line into words: quotes, \" escapes and $VARS, as bash would here. */
function shellWords(line: string, vars: Record<string, string>): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const expand = (text: string) =>
    text.replace(/\$([A-Z_]+)/g, (_, name: string) => vars[name] ?? '');
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ' ') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let text = '';
      for (i++; line[i] !== '"'; i++) text += line[i] === '\\' ? line[++i] : line[i];
      word = (word ?? '') + expand(text);
    } else {
      let j = i;
      while (j < line.length && !' \'"'.includes(line[j])) j++;
      word = (word ?? '') + expand(line.slice(i, j));
      i = j - 1;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Runs one printed `curl` command with fetch and returns the status and body. */
async function curl(words: string[]): Promise<{ status: number; body: string }> {
  let method = 'GET';
  let url = '';
  const headers: Record<string, string> = {};
  const data: string[] = [];
  let user: string | undefined;
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (w === '-X') method = words[++i];
    else if (w === '-H') {
      const [name, ...value] = words[++i].split(':');
      headers[name.trim().toLowerCase()] = value.join(':').trim();
    } else if (w === '-d') data.push(words[++i]);
    else if (w === '-u') user = words[++i];
    else if (w === '-s' || w === '-i') continue;
    else url = w;
  }
  if (user) headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
  if (data.length > 0) {
    if (method === 'GET') method = 'POST';
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  }
  const res = await fetch(url, {
    method,
    headers,
    body: data.length > 0 ? data.join('&') : undefined,
  });
  return { status: res.status, body: await res.text() };
}

/** The value of one auth-param of a challenge. */
function param(challenge: string | null, name: string): string | undefined {
  return new RegExp(`${name}="([^"]*)"`).exec(challenge ?? '')?.[1];
}

/** A fetch that keeps every response, for the SDK client's transport. */
function recordingFetch(responses: Response[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    responses.push(response);
    return response;
  };
}

/**
 * What an MCP client does with nothing but the server's URL and a client of the realm: the 401's
 * `resource_metadata` → the document → its `authorization_servers` → the realm's token endpoint
 * → the tools, with the SDK's own client. Returns the tokens it got.
 */
async function discoverAndCallTools(mcpUrl: string, realmIssuer: string): Promise<string[]> {
  // 1. No token: a 401 whose leading Bearer challenge names the metadata document, no error.
  const responses: Response[] = [];
  const anonymous = new Client({ name: 'sample-e2e', version: '1.0.0' });
  const refused = await anonymous
    .connect(
      new StreamableHTTPClientTransport(new URL(mcpUrl), { fetch: recordingFetch(responses) }),
    )
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  expect((refused as StreamableHTTPError).code).toBe(401);
  const challenge = responses.at(-1)!.headers.get('www-authenticate');
  expect(challenge).toMatch(/^Bearer /);
  expect(challenge).not.toContain('error=');
  const metadataUrl = param(challenge, 'resource_metadata')!;
  const { origin, pathname } = new URL(mcpUrl);
  expect(metadataUrl).toBe(`${origin}/.well-known/oauth-protected-resource${pathname}`);

  // 2. The document names this resource and the realm that issues its tokens.
  const document = (await (await fetch(metadataUrl)).json()) as {
    resource: string;
    authorization_servers: string[];
    scopes_supported: string[];
  };
  expect(document.resource).toBe(mcpUrl);
  expect(document.authorization_servers).toEqual([realmIssuer]);
  expect(document.scopes_supported).toEqual(expect.arrayContaining(['read:posts']));

  // 3. A token from that realm's token endpoint, found in the realm's own metadata.
  const issuer = document.authorization_servers[0];
  const { token_endpoint } = (await (
    await fetch(`${issuer}/.well-known/openid-configuration`)
  ).json()) as { token_endpoint: string };
  const res = await fetch(token_endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${DEMO_CLIENT.clientId}:${DEMO_CLIENT.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'read:posts',
      resource: document.resource,
    }),
  });
  expect(res.status).toBe(200);
  const token = ((await res.json()) as { access_token: string }).access_token;

  // 4. List the tools, call the first (200), the second without its scope (403 with scope=).
  const seen: Response[] = [];
  const client = new Client({ name: 'sample-e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
      fetch: recordingFetch(seen),
    }),
  );
  try {
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
  } finally {
    await client.close();
  }
  return [token];
}

function busyPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as { port: number }).port }),
    );
  });
}

describe('the sample, started as `npm start` does', () => {
  let child: Child | undefined;
  afterAll(async () => {
    await child?.stop();
  });

  it('prints a walkthrough whose every command gets the status it announces, and stops on Ctrl-C', async () => {
    child = Child.start('npm', ['start'], { PORT: '0', VOXKEY_DEV_PORT: '0' });
    await child.waitFor('Press Ctrl-C to stop.', 120_000);
    const lines = child.output.split('\n').map((line) => line.trim());
    expect(child.output).toMatch(/VoxKey sample API listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(child.output).toMatch(
      /Development realm \(oidc-provider\): http:\/\/127\.0\.0\.1:\d+\/oauth2\//,
    );

    // 1. The token commands: `NAME=$(curl ... | node -pe ...)`.
    const vars: Record<string, string> = {};
    for (const line of lines.filter((l) => /^[A-Z_]+=\$\(curl /.test(l))) {
      const name = line.slice(0, line.indexOf('='));
      const command = line.slice(name.length + 3, line.indexOf(' | node'));
      const { status, body } = await curl(shellWords(command, vars));
      expect(status).toBe(200);
      vars[name] = JSON.parse(body).access_token;
    }
    expect(Object.keys(vars)).toEqual(['TOKEN', 'READ_TOKEN', 'MCP_TOKEN', 'MCP_READ_TOKEN']);

    // 2. and 3. Every request line, in order, with the status it announces.
    const requests = lines.filter((l) => l.startsWith('curl -i '));
    expect(requests.length).toBeGreaterThanOrEqual(10);
    for (const line of requests) {
      const [, code, graphqlCode] = /# expect (\d{3})(?: ([A-Z_]+))?/.exec(line)!;
      const { status, body } = await curl(
        shellWords(line.slice(0, line.indexOf('#')).trim(), vars),
      );
      expect({ line, status }).toEqual({ line, status: Number(code) });
      if (line.includes('/graphql')) {
        // GraphQL answers 200 either way: the announced code is in errors[].extensions.
        const codes = (
          (JSON.parse(body) as { errors?: { extensions?: { code?: string } }[] }).errors ?? []
        ).map((error) => error.extensions?.code);
        expect({ line, codes }).toEqual({ line, codes: graphqlCode ? [graphqlCode] : [] });
      }
    }

    const apiUrl = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(child.output)![1];

    // The MCP server, found from its URL alone by the SDK's client.
    const issuer = /Development realm \(oidc-provider\): (\S+)/.exec(child.output)![1];
    const mcpTokens = await discoverAndCallTools(`${apiUrl}/mcp`, issuer);

    // The @OptionalAuth() feed: anonymous without a token, personalised with one.
    const feed = async (authorization?: string) =>
      (await (
        await fetch(`${apiUrl}/posts/feed`, { headers: authorization ? { authorization } : {} })
      ).json()) as { for: string };
    expect((await feed()).for).toBe('anonymous');
    expect((await feed(`Bearer ${vars.TOKEN}`)).for).not.toBe('anonymous');
    expect(
      (await fetch(`${apiUrl}/posts/feed`, { headers: { authorization: 'Bearer junk' } })).status,
    ).toBe(401);

    // 4. The gateway: refused before it connects without a token; with one, messages are answered.
    const refused = io(apiUrl, { transports: ['websocket'], reconnection: false });
    const error = await new Promise<Error>((resolve) => refused.once('connect_error', resolve));
    refused.close();
    expect(error.message).toBe('No token');
    const socket = io(apiUrl, {
      auth: { token: vars.TOKEN },
      transports: ['websocket'],
      reconnection: false,
    });
    const reply = (await socket.timeout(5_000).emitWithAck('posts')) as { posts: unknown[] };
    socket.close();
    expect(reply.posts.length).toBeGreaterThan(0);

    // 5. The subscription: a post created over GraphQL reaches a subscriber with a token.
    const client = createClient({
      url: `${apiUrl.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${vars.TOKEN}` },
      retryAttempts: 0,
    });
    try {
      const events = client.iterate<{ postCreated: { title: string } }>({
        query: 'subscription { postCreated { title } }',
      });
      const first = events.next();
      // The subscription starts asynchronously: create posts until one is seen (bounded).
      let seen: IteratorResult<unknown> | undefined;
      for (let attempt = 0; attempt < 25 && !seen; attempt++) {
        await fetch(`${apiUrl}/graphql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${vars.TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query: 'mutation { createPost(title: "Live") { id } }' }),
        });
        seen = await Promise.race([
          first,
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200)),
        ]);
      }
      expect(seen?.value).toEqual({ data: { postCreated: { title: 'Live' } } });
    } finally {
      await client.dispose();
    }

    // Ctrl-C stops the API and the realm: npm itself dies of the signal, the sample exits cleanly.
    const realmUrl = /Development realm \(oidc-provider\): (http:\/\/127\.0\.0\.1:\d+)/.exec(
      child.output,
    )![1];
    await child.stop();
    expect(child.output).toContain('SIGINT: stopping');
    await expect(fetch(`${apiUrl}/health`)).rejects.toThrow();
    await expect(fetch(realmUrl)).rejects.toThrow();
    for (const token of [...Object.values(vars), ...mcpTokens]) {
      expect(child.output).not.toContain(token);
    }
  }, 180_000);

  it.each([
    ['PORT', 'PORT'],
    ['VOXKEY_DEV_PORT', 'VOXKEY_DEV_PORT'],
  ])(
    'a port in use (%s) gives a clear message and exit code 1',
    async (variable) => {
      const { server, port } = await busyPort();
      try {
        const other = variable === 'PORT' ? 'VOXKEY_DEV_PORT' : 'PORT';
        const run = Child.start('node', ['dist-sample/main.js'], {
          [variable]: String(port),
          [other]: '0',
        });
        expect(await run.exited).toBe(1);
        expect(run.output).toContain(`Port ${port} (${variable}) is already in use`);
      } finally {
        server.close();
      }
    },
    30_000,
  );

  it('with VOXKEY_DOMAIN set it uses that realm and starts nothing else', async () => {
    const realm = await OidcRealm.start();
    const { server, port: devPort } = await busyPort();
    server.close(); // a port known to be free: the sample must not take it
    const run = Child.start('node', ['dist-sample/main.js'], {
      PORT: '0',
      VOXKEY_DEV_PORT: String(devPort),
      VOXKEY_DOMAIN: realm.domain,
      VOXKEY_REALM: realm.realm,
      VOXKEY_AUDIENCE: JWT_RESOURCE,
      VOXKEY_CLIENT_ID: 'api-client',
      VOXKEY_CLIENT_SECRET: 'api-secret',
    });
    try {
      await run.waitFor('Press Ctrl-C to stop.', 30_000);
      expect(run.output).toContain(`Using the VoxKey realm at ${realm.domain}`);
      expect(run.output).not.toContain('Development realm');
      await expect(fetch(`http://127.0.0.1:${devPort}/`)).rejects.toThrow();
      const apiUrl = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.output)![1];
      const token = await realm.issueToken({ scope: 'read:posts' });
      const res = await fetch(`${apiUrl}/posts`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    } finally {
      await run.stop();
      await realm.close();
    }
  }, 60_000);
});
