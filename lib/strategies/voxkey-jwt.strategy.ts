import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { KeyObject } from 'node:crypto';
import passport from 'passport';
import { Strategy, type StrategyOptionsWithRequest } from 'passport-jwt';
import { VoxKeyConfigError, VoxKeyError, VoxKeyTokenError } from '../errors/voxkey.error.js';
import type { IntrospectionResult } from '../interfaces/introspection-result.interface.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';
import { validateClaims } from '../jwt/claims.validator.js';
import { JwksKeyStore } from '../jwt/jwks-key.store.js';
import { checkJwsHeader, decodeJwsHeader } from '../jwt/jwt-header.js';
import { bearerTokenFromRequest, setVerifyingKey } from '../jwt/request-token.js';
import { IntrospectionService } from '../services/introspection.service.js';
import { VOXKEY_RESOLVED_OPTIONS, VOXKEY_STRATEGY } from '../voxkey.constants.js';
import { registeredStrategy } from './passport-registry.js';

type KeyCallback = (error: unknown, key?: KeyObject) => void;

/**
 * Why an introspection answer cannot authenticate a request on its own, or undefined: it must be
 * active (which already covers audience and issuer), carry `exp`, be valid now (`nbf`), and be a
 * bearer access token (an active refresh token or a DPoP-bound token is not).
 * @see RFC 7662 §2.2
 */
function bearerUseProblem(result: IntrospectionResult, clockTolerance: number): string | undefined {
  if (!result.active) return 'not active';
  if (typeof result.exp !== 'number') return 'no exp';
  const now = Date.now() / 1000;
  if (typeof result.nbf === 'number' && result.nbf > now + clockTolerance) return 'not yet valid';
  const type = result.token_type?.toLowerCase();
  if (type !== undefined && type !== 'bearer' && type !== 'access_token')
    return 'not a bearer access token';
  if (result.cnf !== undefined) return 'sender-constrained (cnf)';
  return undefined;
}

/**
 * Passport keeps strategies in one registry per process, and `AuthGuard('voxkey-jwt')` looks the
 * strategy up by name: a second VoxKey module would silently make the first application validate
 * with the second one's realm and audience. Refuse that instead.
 */
function assertNameFree(): void {
  if (registeredStrategy(VOXKEY_STRATEGY)) {
    throw new VoxKeyConfigError(
      `a '${VOXKEY_STRATEGY}' Passport strategy is already registered in this process. ` +
        'Import VoxKeyModule.forRoot() once, and close one application before starting another.',
    );
  }
}

/**
 * The `voxkey-jwt` Passport strategy: passport-jwt verifies the signature and the registered
 * claims with a key chosen by the header checks and the jwks-rsa backed key store; `validate`
 * finishes the claim checks and returns the claims as `req.user`.
 *
 * With `validation: 'introspection'` the same strategy authenticates (opaque) tokens by
 * introspection alone, and `req.user` is the introspection answer.
 */
@Injectable()
export class VoxKeyJwtStrategy
  extends PassportStrategy(Strategy, VOXKEY_STRATEGY)
  implements OnModuleInit, OnApplicationShutdown
{
  private readonly options: ResolvedVoxKeyOptions;

  private readonly introspection: IntrospectionService;

  constructor(
    @Inject(VOXKEY_RESOLVED_OPTIONS) options: ResolvedVoxKeyOptions,
    keyStore: JwksKeyStore,
    introspection: IntrospectionService,
  ) {
    assertNameFree();
    const secretOrKeyProvider = (request: object, rawToken: string, done: KeyCallback): void => {
      let header;
      try {
        header = decodeJwsHeader(rawToken);
        checkJwsHeader(header, options);
      } catch (error) {
        return done(error);
      }
      keyStore.getKey(header.kid, header.alg).then(
        (key) => {
          setVerifyingKey(request, key);
          try {
            done(null, key);
          } catch (error) {
            // jsonwebtoken throws, rather than reporting, on a signed payload that is not a JSON
            // object (e.g. `null`); it has answered nothing yet, so this is the one answer.
            done(error);
          }
        },
        (error: unknown) => done(error),
      );
    };
    super({
      jwtFromRequest: bearerTokenFromRequest,
      // jsonwebtoken accepts KeyObjects, which spares a PEM parse per request.
      secretOrKeyProvider,
      // validate() receives the request (subclasses may want it).
      passReqToCallback: true,
      issuer: options.endpoints.issuer,
      audience: [...options.audiences],
      algorithms: [...options.algorithms],
      jsonWebTokenOptions: {
        clockTolerance: options.clockTolerance,
        maxAge: options.maxTokenAge,
      },
    } as unknown as StrategyOptionsWithRequest);
    this.options = options;
    this.introspection = introspection;
    // PassportStrategy registered the name in its constructor; take it back until the
    // application initialises, so a bootstrap that fails half-way leaves the name free.
    passport.unuse(VOXKEY_STRATEGY);
  }

  /** Registers the strategy once the application starts, unless another one took the name. */
  onModuleInit(): void {
    assertNameFree();
    passport.use(VOXKEY_STRATEGY, this);
  }

  /** Passport entry point: passport-jwt's flow, or introspection alone in that mode. */
  override authenticate(request: Parameters<Strategy['authenticate']>[0], options?: unknown): void {
    if (this.options.validation !== 'introspection') return super.authenticate(request, options);
    const token = bearerTokenFromRequest(request as never);
    if (!token) return this.fail(new VoxKeyTokenError('malformed', 'no bearer token'), 401);
    this.introspection.introspect(token, { tokenTypeHint: 'access_token' }).then(
      (result: IntrospectionResult) => {
        const problem = bearerUseProblem(result, this.options.clockTolerance);
        if (problem) this.fail(new VoxKeyTokenError('inactive', `introspection: ${problem}`), 401);
        else this.success(result);
      },
      // An outage is a failure rather than a Passport error: VoxKeyAuthGuard answers 503 for it
      // either way, and the stock AuthGuard then answers 401 instead of a 500.
      (error: unknown) =>
        error instanceof VoxKeyError ? this.fail(error, 503) : this.error(error as Error),
    );
  }

  /**
   * Called by passport-jwt with the verified payload; the claims become `req.user`. A token
   * that fails the claim checks is a Passport failure (`[false, reason]`, a 401 through any
   * guard, the stock `AuthGuard('voxkey-jwt')` included), not an error (a 500 there).
   */
  validate(_request: object, payload: unknown): VoxKeyClaims | [false, VoxKeyTokenError] {
    try {
      return validateClaims(payload, this.options);
    } catch (error) {
      if (error instanceof VoxKeyTokenError) return [false, error];
      throw error;
    }
  }

  /** Frees the strategy name, so another application in this process may register it. */
  onApplicationShutdown(): void {
    if (registeredStrategy(VOXKEY_STRATEGY) === this) {
      passport.unuse(VOXKEY_STRATEGY);
    }
  }
}
