import type { ExecutionContext } from '@nestjs/common';

/** NestJS's context types, and any other string (which the guards must deny). */
export type ContextType = 'http' | 'graphql' | 'ws' | 'rpc' | (string & {});

/**
 * A fake execution context of the given type, for unit tests of the guards and decorators: only
 * what they read. `headers` collects the response headers the guards set on the default
 * response (an Express- or Fastify-like `header()`); pass `response` to use another one.
 */
export function contextFor(
  type: ContextType,
  cls: object,
  handler: () => void,
  request: Record<string, unknown> = {},
  response?: object,
) {
  const headers: Record<string, string> = {};
  response ??= {
    header: (name: string, value: string) => (headers[name.toLowerCase()] = value),
  };
  const context = {
    getType: () => type,
    getClass: () => cls,
    getHandler: () => handler,
    getArgs: () => [request, response],
    getArgByIndex: (i: number) => [request, response][i],
    switchToHttp: () => ({
      getRequest: () => request,
      getResponse: () => response,
      getNext: () => undefined,
    }),
    switchToRpc: () => ({ getData: () => undefined, getContext: () => undefined }),
    switchToWs: () => ({
      getData: () => undefined,
      getClient: () => undefined,
      getPattern: () => '',
    }),
  } as unknown as ExecutionContext;
  return { context, headers };
}
