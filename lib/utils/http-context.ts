import type { ArgumentsHost } from '@nestjs/common';

/*
 * The request and response of an HTTP execution context, read as its arguments `[req, res]`,
 * which is what `switchToHttp().getRequest()` returns too. `switchToHttp()` assigns three new
 * closures onto the context on every call; these run on every request.
 */

/** The framework's request object (Express `req`, Fastify `FastifyRequest`). */
export function httpRequestOf<T>(context: ArgumentsHost): T {
  return context.getArgByIndex<T>(0);
}

/** The framework's response object (Express `res`, Fastify `FastifyReply`). */
export function httpResponseOf<T>(context: ArgumentsHost): T {
  return context.getArgByIndex<T>(1);
}
