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
import {
  VoxKeyConfigError,
  VoxKeyError,
  VoxKeyJwksError,
  VoxKeyOAuthError,
} from '../errors/voxkey.error.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';
import { countAuthorizationHeaders, parseBearerHeader } from '../jwt/bearer-token.parser.js';
import { JwksKeyStore } from '../jwt/jwks-key.store.js';
import { VerifiedTokenCache } from '../jwt/verified-token.cache.js';
import { getVerifyingKey, setExtractedToken } from '../jwt/request-token.js';
import type { KeyObject } from 'node:crypto';
import { rejectionReason } from '../jwt/token-rejection.js';
import { httpRequestOf } from '../utils/http-context.js';
import { setResponseHeader } from '../utils/http-response.util.js';
import { IntrospectionService } from '../services/introspection.service.js';
import { RevocationList } from '../services/revocation-list.js';
import { isPublicRoute } from '../utils/reflect.util.js';
import { RouteMemo } from '../utils/route-metadata.js';
import { runStrategy } from './strategy-runner.js';
import {
  REQUIRE_ACTIVE_METADATA,
  VOXKEY_RESOLVED_OPTIONS,
  VOXKEY_STRATEGY,
} from '../voxkey.constants.js';

/** A promise, or anything `await` would treat as one. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

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
    protected readonly revocationList: RevocationList,
    protected readonly introspection: IntrospectionService,
    protected readonly verifiedTokens: VerifiedTokenCache,
  ) {
    super();
  }

  /**
   * The HTTP request, as `AuthGuard` reads it but without `switchToHttp()`'s per-call closures.
   * Subclasses may still override it.
   */
  override getRequest<T = unknown>(context: ExecutionContext): T {
    return httpRequestOf<T>(context);
  }

  /** `@Public()` and `@RequireActiveToken()` per route, read once. */
  private routes: RouteMemo<{ isPublic: boolean; requireActive: boolean }> | undefined;

  /**
   * Synchronous for a token verified before (no promise on the hot path); asynchronous when
   * Passport, the shared deny list or the introspection endpoint must be asked.
   */
  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    this.routes ??= new RouteMemo((ctx) => ({
      isPublic: isPublicRoute(this.reflector, ctx),
      requireActive: this.requiresActiveToken(ctx),
    }));
    const route = this.routes.get(context);
    if (route.isPublic) return true;
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
    // A token the cache holds was parsed before: the parser skips its character scan for it.
    const credentials = parseBearerHeader(request.headers.authorization, this.verifiedTokens.holds);
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
    const { token } = credentials;
    const revoked = this.revocationList.isRevoked(token);
    return typeof revoked === 'boolean'
      ? this.authenticate(context, request, token, revoked, route.requireActive)
      : revoked.then((r) => this.authenticate(context, request, token, r, route.requireActive));
  }

  private authenticate(
    context: ExecutionContext,
    request: HttpRequestLike,
    token: string,
    revoked: boolean,
    requireActive: boolean,
  ): boolean | Promise<boolean> {
    if (revoked) {
      throw this.reject(context, new InvalidTokenException(this.realm, 'revoked'), 'revoked here');
    }
    setExtractedToken(request, token);
    const jwt = this.voxkeyOptions.validation === 'jwt';
    // A token verified before skips Passport and the signature check (exp and nbf still apply).
    const known = jwt ? this.verifiedTokens.get(token) : undefined;
    if (known) {
      // The same hook as on a miss, so a subclass policy applies to cached tokens too.
      const user: unknown = this.handleRequest(null, known, undefined, context);
      // A subclass may answer asynchronously: wait for it, as the miss path does.
      return isThenable(user)
        ? Promise.resolve(user).then((accepted) =>
            this.admit(context, request, token, accepted, requireActive),
          )
        : this.admit(context, request, token, user, requireActive);
    }
    return this.verify(context, token, jwt && requireActive);
  }

  /** A cached token's user, accepted by handleRequest: onto the request, then `@RequireActiveToken`. */
  private admit(
    context: ExecutionContext,
    request: HttpRequestLike,
    token: string,
    user: unknown,
    requireActive: boolean,
  ): boolean | Promise<boolean> {
    (request as { user?: unknown }).user = user;
    return requireActive ? this.assertActive(context, token).then(() => true) : true;
  }

  private async verify(
    context: ExecutionContext,
    token: string,
    requireActive: boolean,
  ): Promise<boolean> {
    const request = this.getRequest(context) as HttpRequestLike & { user?: VoxKeyClaims };
    // The strategy itself, without Passport's middleware around it (same outcome, less work).
    request.user = (await runStrategy(VOXKEY_STRATEGY, request, (error, user, info, status) =>
      this.handleRequest(error, user, info, context, status),
    )) as VoxKeyClaims;
    // Cached only once the whole check, handleRequest included, accepted it.
    const key = getVerifyingKey(request) as KeyObject | undefined;
    if (this.voxkeyOptions.validation === 'jwt' && key && request.user) {
      this.verifiedTokens.set(token, request.user, key);
    }
    if (requireActive) await this.assertActive(context, token);
    return true;
  }

  /** Whether `@RequireActiveToken()` marks the handler or its controller. */
  protected requiresActiveToken(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean | undefined>(REQUIRE_ACTIVE_METADATA, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }

  /** `@RequireActiveToken()`: the realm must still consider the token active (fail closed). */
  protected async assertActive(context: ExecutionContext, token: string): Promise<void> {
    let active: boolean;
    try {
      active = await this.introspection.isActive(token);
    } catch (error) {
      throw this.unavailable(context, error);
    }
    if (!active) {
      throw this.reject(context, new InvalidTokenException(this.realm, 'inactive'), 'not active');
    }
  }

  /** Turns Passport's outcome into the claims or into a fail-closed HTTP error. */
  override handleRequest<TUser = VoxKeyClaims>(
    error: unknown,
    user: unknown,
    info: unknown,
    context: ExecutionContext,
    _status?: unknown,
  ): TUser {
    if (!error && user) return user as TUser;
    const failure = error ?? info;
    if (
      failure instanceof VoxKeyJwksError ||
      failure instanceof VoxKeyOAuthError ||
      failure instanceof VoxKeyConfigError
    ) {
      throw this.unavailable(context, failure);
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

  /**
   * 503 for a dependency that failed (key set, introspection endpoint) or refused this API
   * itself (its own credentials or configuration): the token may be fine, so never a 401, and
   * never a 500. Problems on this API's side are logged as errors.
   */
  protected unavailable(context: ExecutionContext, failure: unknown): AuthUnavailableException {
    if (failure instanceof VoxKeyConfigError) {
      this.errorOncePerMinute(failure.code, `Token not checked: ${failure.message}`);
    } else if (failure instanceof VoxKeyOAuthError && !failure.retryable) {
      this.errorOncePerMinute(
        failure.code,
        `Token not checked: ${failure.message}; the realm refused this API's own request (check clientId, clientSecret and the endpoint)`,
      );
    } else {
      // Outages are logged once by the component that saw them; per request only at debug level.
      this.logger.debug(`Token not checked: ${describeFailure(failure, 'unavailable')}`);
    }
    const retryAfter =
      failure instanceof VoxKeyOAuthError
        ? (failure.retryAfter ?? 1)
        : this.keyStore.retryAfterSeconds;
    const exception = new AuthUnavailableException(retryAfter);
    setResponseHeader(context, 'Retry-After', String(exception.retryAfter));
    return exception;
  }

  /** Server-side problems are errors, but clients must not be able to flood the log with them. */
  private readonly lastErrorLog = new Map<string, number>();

  private errorOncePerMinute(code: string, message: string): void {
    const now = Date.now();
    if ((this.lastErrorLog.get(code) ?? Number.NEGATIVE_INFINITY) > now - 60_000) return;
    this.lastErrorLog.set(code, now);
    this.logger.error(message);
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
