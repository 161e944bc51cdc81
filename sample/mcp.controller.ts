import { Controller, Delete, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  InjectVoxKeyOptions,
  InsufficientScopeException,
  type McpAuthInfo,
  Resource,
  type ResolvedVoxKeyOptions,
} from '@voxkey/nestjs';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { PostsStore } from './posts.store';
import { MCP_RESOURCE } from './sample.config';

/** The scopes each tool needs; a `tools/call` without them is refused with an HTTP 403. */
export const TOOL_SCOPES: Readonly<Record<string, readonly string[]>> = {
  list_posts: ['read:posts'],
  create_post: ['write:posts'],
};

/** The tools a JSON-RPC body calls (one message, or a batch). */
function calledTools(body: unknown): string[] {
  const messages: unknown[] = Array.isArray(body) ? body : [body];
  return messages.flatMap((message) => {
    const { method, params } = (message ?? {}) as { method?: unknown; params?: { name?: unknown } };
    return method === 'tools/call' && typeof params?.name === 'string' ? [params.name] : [];
  });
}

/** The scopes `tools` need that `granted` lacks, in one list for one challenge. */
function missingScopes(tools: readonly string[], granted: readonly string[]): string[] {
  const needed = new Set(tools.flatMap((tool) => TOOL_SCOPES[tool] ?? []));
  return [...needed].filter((scope) => !granted.includes(scope));
}

/**
 * An MCP server over Streamable HTTP, built with the official SDK, behind the global
 * `VoxKeyAuthGuard`: every request needs a valid token (a token with no scope may still
 * initialize and list the tools), and the guard's `req.auth` is what the SDK hands the tools as
 * `extra.authInfo`. Stateless: a new server and transport per request.
 */
@Resource(MCP_RESOURCE)
@Controller('mcp')
export class McpController {
  constructor(
    private readonly store: PostsStore,
    @InjectVoxKeyOptions() private readonly options: ResolvedVoxKeyOptions,
  ) {}

  @Post()
  async handle(@Req() req: Request & { auth?: McpAuthInfo }, @Res() res: Response): Promise<void> {
    // A tool call the token's scopes do not cover is an HTTP 403 with a `scope=` challenge, so an
    // MCP client can step up; checked before the SDK answers with a JSON-RPC result.
    const missing = missingScopes(calledTools(req.body), req.auth?.scopes ?? []);
    if (missing.length > 0) {
      // With a `resource` configured, the challenge also names its metadata document (RFC 9728).
      const resource = this.options.resources.find((r) => r.id === MCP_RESOURCE);
      const refusal = new InsufficientScopeException(
        { realm: this.options.challengeRealm, resourceMetadata: resource?.metadataUrl },
        missing.join(' '),
      );
      // Thrown from a handler, not a guard: the challenge header is this code's to set.
      res.setHeader('WWW-Authenticate', refusal.wwwAuthenticate);
      throw refusal;
    }
    const server = this.createServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      // Plain JSON answers rather than an event stream: nothing here streams.
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  }

  /** Stateless: no server-initiated stream to open. */
  @Get()
  @HttpCode(405)
  noStream(@Res({ passthrough: true }) res: Response): object {
    return methodNotAllowed(res);
  }

  /** Stateless: no session to end. */
  @Delete()
  @HttpCode(405)
  noSession(@Res({ passthrough: true }) res: Response): object {
    return methodNotAllowed(res);
  }

  private createServer(): McpServer {
    const server = new McpServer({ name: 'voxkey-sample', version: '1.0.0' });
    server.registerTool(
      'list_posts',
      { description: `Lists the posts (needs ${TOOL_SCOPES.list_posts.join(' ')})` },
      ({ authInfo }) => {
        // The tools see the guard's req.auth: a second check, where the SDK documents one.
        if (missingScopes(['list_posts'], authInfo?.scopes ?? []).length > 0) return refused();
        return { content: [{ type: 'text', text: JSON.stringify(this.store.list()) }] };
      },
    );
    server.registerTool(
      'create_post',
      {
        description: `Creates a post (needs ${TOOL_SCOPES.create_post.join(' ')})`,
        inputSchema: { title: z.string().min(1).max(200) },
      },
      ({ title }, { authInfo }) => {
        if (missingScopes(['create_post'], authInfo?.scopes ?? []).length > 0) return refused();
        const post = this.store.add(title, authInfo?.clientId);
        return { content: [{ type: 'text', text: JSON.stringify(post) }] };
      },
    );
    return server;
  }
}

function refused(): { isError: true; content: { type: 'text'; text: string }[] } {
  return { isError: true, content: [{ type: 'text', text: 'insufficient scope' }] };
}

function methodNotAllowed(res: Response): object {
  res.setHeader('Allow', 'POST');
  return { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed' }, id: null };
}
