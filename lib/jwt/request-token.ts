import { parseBearerHeader } from './bearer-token.parser.js';

/** Where the auth guard leaves the token it already extracted, so it is parsed once. */
const EXTRACTED_TOKEN = Symbol.for('voxkey:extracted-token');

interface RequestLike {
  headers?: Record<string, string | string[] | undefined>;
  [EXTRACTED_TOKEN]?: string;
}

/** The token the guard extracted from this request, if it ran. */
export function getExtractedToken(request: object): string | undefined {
  return (request as RequestLike)[EXTRACTED_TOKEN];
}

/** Records the token the guard extracted from this request. */
export function setExtractedToken(request: object, token: string): void {
  (request as RequestLike)[EXTRACTED_TOKEN] = token;
}

/**
 * passport-jwt's `jwtFromRequest`: the token the guard extracted, or, when the strategy is used
 * through another guard, the result of the same strict parser (null unless well formed).
 */
export function bearerTokenFromRequest(request: RequestLike): string | null {
  const extracted = request[EXTRACTED_TOKEN];
  if (extracted !== undefined) return extracted;
  const credentials = parseBearerHeader(request.headers?.authorization);
  return credentials.kind === 'token' ? credentials.token : null;
}

/** Where the strategy notes which realm key verified the request's token. */
const VERIFYING_KEY = Symbol.for('voxkey:verifying-key');

export function setVerifyingKey(request: object, key: object): void {
  (request as Record<symbol, unknown>)[VERIFYING_KEY] = key;
}

export function getVerifyingKey(request: object): object | undefined {
  return (request as Record<symbol, object | undefined>)[VERIFYING_KEY];
}
