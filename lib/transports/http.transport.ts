import type { ExecutionContext, HttpException } from '@nestjs/common';
import { type LocatedRequest, readRequestCredentials } from '../token/token-location.js';
import { setResponseHeader } from '../utils/http-response.util.js';
import { refusalFields, rememberUser, tokenOf, type Transport } from './transport.js';

type HttpRequest = LocatedRequest & { user?: unknown };

/**
 * HTTP routes (Express, Fastify): the `Authorization` header and the token cookie
 * (`tokenLocation`), `req.user`, the RFC 6750 response.
 */
export const httpTransport: Transport = {
  credentials: (context, options) =>
    readRequestCredentials(
      context.switchToHttp().getRequest<HttpRequest>(),
      options.tokenLocation,
      options.dpop.mode !== 'off',
    ),
  // One guard call per request.
  session: () => undefined,
  getUser: (context) => context.switchToHttp().getRequest<HttpRequest>().user,
  setUser(context, user, token) {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    request.user = user;
    rememberUser(request, user, token);
  },
  // The token the guard verified, whichever location it came from.
  getToken(context) {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    return request.user ? tokenOf(request) : undefined;
  },
  request: (context) => context.switchToHttp().getRequest<HttpRequest>(),
  httpRequest: (context) => context.switchToHttp().getRequest<HttpRequest>(),
  refuse(context: ExecutionContext, refusal: HttpException) {
    const { challenge, retryAfter, dpopNonce } = refusalFields(refusal);
    if (challenge !== undefined) setResponseHeader(context, 'WWW-Authenticate', challenge);
    if (retryAfter !== undefined) setResponseHeader(context, 'Retry-After', String(retryAfter));
    if (dpopNonce !== undefined) {
      setResponseHeader(context, 'DPoP-Nonce', dpopNonce);
      setResponseHeader(context, 'Cache-Control', 'no-store');
    }
    return Promise.resolve(refusal);
  },
  announce(context, refusal) {
    setResponseHeader(context, 'WWW-Authenticate', refusal.wwwAuthenticate);
  },
};
