// Contender: plain Express with Auth0's express-oauth2-jwt-bearer, as its README shows.
import express from 'express';
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer';
import type { AddressInfo } from 'node:net';
import { env, POSTS, ready } from './common';

const app = express();
app.use(
  auth({
    issuer: env.issuer,
    jwksUri: env.jwksUri,
    audience: env.audience,
    tokenSigningAlg: 'RS256',
  }),
);
app.get('/posts', requiredScopes('read:posts'), (_req, res) => {
  res.json(POSTS);
});
// Answer the library's errors with their status and headers, without logging each one.
app.use(
  (
    error: { status?: number; headers?: Record<string, string> },
    _req: express.Request,
    res: express.Response,
    _next: express.NextFunction,
  ) => {
    res
      .status(error.status ?? 500)
      .set(error.headers ?? {})
      .end();
  },
);
const server = app.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
