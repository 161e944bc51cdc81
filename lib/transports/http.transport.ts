import type { ExecutionContext, HttpException } from '@nestjs/common';
import {
  bearerTokenFromRequest,
  readBearerCredentials,
  type RequestWithHeaders,
} from '../token/bearer-header.parser.js';
import { setResponseHeader } from '../utils/http-response.util.js';
import { refusalFields, type Transport } from './transport.js';

type HttpRequest = RequestWithHeaders & { user?: unknown };

/** HTTP routes (Express, Fastify): the `Authorization` header, `req.user`, the RFC 6750 response. */
export const httpTransport: Transport = {
  credentials: (context) => readBearerCredentials(context.switchToHttp().getRequest<HttpRequest>()),
  // One guard call per request.
  session: () => undefined,
  getUser: (context) => context.switchToHttp().getRequest<HttpRequest>().user,
  setUser(context, user) {
    context.switchToHttp().getRequest<HttpRequest>().user = user;
  },
  // The guard's own reader: the same header gives the same token it validated.
  getToken(context) {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    return request.user ? (bearerTokenFromRequest(request) ?? undefined) : undefined;
  },
  request: (context) => context.switchToHttp().getRequest<HttpRequest>(),
  refuse(context: ExecutionContext, refusal: HttpException) {
    const { challenge, retryAfter } = refusalFields(refusal);
    if (challenge !== undefined) setResponseHeader(context, 'WWW-Authenticate', challenge);
    if (retryAfter !== undefined) setResponseHeader(context, 'Retry-After', String(retryAfter));
    return Promise.resolve(refusal);
  },
  announce(context, refusal) {
    setResponseHeader(context, 'WWW-Authenticate', refusal.wwwAuthenticate);
  },
};
