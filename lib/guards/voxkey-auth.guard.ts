import { type ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import {
  AuthUnavailableException,
  type BearerException,
  InvalidRequestException,
  InvalidTokenException,
  MissingTokenException,
  UnsupportedContextException,
} from '../errors/bearer.exceptions.js';
import { VoxKeyError, VoxKeyJwksError } from '../errors/voxkey.error.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';
import { countAuthorizationHeaders, parseBearerHeader } from '../jwt/bearer-token.parser.js';
import { JwksKeyStore } from '../jwt/jwks-key.store.js';
import { setExtractedToken } from '../jwt/request-token.js';
import { rejectionReason } from '../jwt/token-rejection.js';
import { setResponseHeader } from '../utils/http-response.util.js';
import { isPublicRoute } from '../utils/reflect.util.js';
import { VOXKEY_RESOLVED_OPTIONS, VOXKEY_STRATEGY } from '../voxkey.constants.js';

interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
  rawHeaders?: string[];
  raw?: { rawHeaders?: string[] };
}

/** Errors whose messages are fixed text (ours and jsonwebtoken's), never token content. */
const SAFE_MESSAGE_ERRORS = new Set(['JsonWebTokenError', 'TokenExpiredError', 'NotBeforeError']);

/** A log-safe account of a failure: other errors (a JSON.parse message can quote its input) give only their name. */
function describeFailure(failure: unknown, reason: string): string {
  if (
    failure instanceof VoxKeyError ||
    (failure instanceof Error && SAFE_MESSAGE_ERRORS.has(failure.name))
  ) {
    return `${reason}: ${failure.message}`;
  }
  return failure instanceof Error ? `${reason} (${failure.name})` : reason;
}

/**
 * Authenticates HTTP requests with the `voxkey-jwt` strategy. Registered globally unless
 * `globalGuard: false`; `@Public()` routes skip it before Passport runs. Other execution
 * contexts (GraphQL, WebSockets, microservices) are denied unless public.
 */
@Injectable()
export class VoxKeyAuthGuard extends AuthGuard(VOXKEY_STRATEGY) {
  protected readonly logger = new Logger('VoxKeyAuthGuard');

  constructor(
    protected readonly reflector: Reflector,
    @Inject(VOXKEY_RESOLVED_OPTIONS) protected readonly voxkeyOptions: ResolvedVoxKeyOptions,
    protected readonly keyStore: JwksKeyStore,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (isPublicRoute(this.reflector, context)) return true;
    if (context.getType() !== 'http') throw new UnsupportedContextException(context.getType());

    const request = this.getRequest(context) as HttpRequestLike;
    const rawHeaders = request.rawHeaders ?? request.raw?.rawHeaders;
    if (countAuthorizationHeaders(rawHeaders) > 1) {
      throw this.reject(
        context,
        new InvalidRequestException(this.realm),
        'several Authorization headers',
      );
    }
    const credentials = parseBearerHeader(request.headers.authorization);
    switch (credentials.kind) {
      case 'missing':
        throw this.reject(context, new MissingTokenException(this.realm), 'no Bearer credentials');
      case 'malformed':
        throw this.reject(context, new InvalidRequestException(this.realm), credentials.detail);
      case 'too_large':
        throw this.reject(
          context,
          new InvalidTokenException(this.realm, 'too_large'),
          'token too large',
        );
    }
    setExtractedToken(request, credentials.token);
    return (await super.canActivate(context)) as boolean;
  }

  /** Turns Passport's outcome into the claims or into a fail-closed HTTP error. */
  override handleRequest<TUser = VoxKeyClaims>(
    error: unknown,
    user: unknown,
    info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (!error && user) return user as TUser;
    const failure = error ?? info;
    if (failure instanceof VoxKeyJwksError) {
      this.logger.debug(`Token not checked: ${failure.message}`);
      const exception = new AuthUnavailableException(this.keyStore.retryAfterSeconds);
      setResponseHeader(context, 'Retry-After', String(exception.retryAfter));
      throw exception;
    }
    if (error && !(error instanceof VoxKeyError)) {
      // An unexpected failure while checking a token still never lets the request through.
      this.logger.error(
        `Token validation failed unexpectedly: ${(error as Error)?.name ?? 'error'}`,
      );
    }
    const reason = rejectionReason(failure);
    throw this.reject(
      context,
      new InvalidTokenException(this.realm, reason),
      describeFailure(failure, reason),
    );
  }

  /** Sets the challenge header, logs the reason at debug level, and returns the exception. */
  protected reject(
    context: ExecutionContext,
    exception: BearerException,
    reason: string,
  ): BearerException {
    this.logger.debug(`Rejected (${exception.getStatus()}): ${reason}`);
    setResponseHeader(context, 'WWW-Authenticate', exception.wwwAuthenticate);
    return exception;
  }

  private get realm(): string {
    return this.voxkeyOptions.challengeRealm;
  }
}
