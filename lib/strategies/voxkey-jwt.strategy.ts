import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { KeyObject } from 'node:crypto';
import passport from 'passport';
import { Strategy, type StrategyOptionsWithRequest } from 'passport-jwt';
import { VoxKeyTokenError } from '../errors/voxkey.errors.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';
import { bearerTokenFromRequest } from '../token/bearer-header.parser.js';
import { assertBindingChecked, type BindingCheckOptions } from './strategy-registry.js';
import { validateClaims } from '../token/claims.validator.js';
import { RealmRegistry } from '../realm/realm.registry.js';
import { verifyJwsSignature } from '../token/jws-signature.js';
import { checkJwsHeader, decodeJsonSegment, decodeJwsHeader } from '../token/jws-header.js';
import { VOXKEY_RESOLVED_OPTIONS, VOXKEY_STRATEGY } from '../voxkey.constants.js';
import {
  assertStrategyNamesFree,
  registerStrategy,
  reportFailure,
  unregisterStrategy,
} from './strategy-registry.js';

/** What the strategy reports with a success, as Passport's `info`. */
export interface VoxKeyJwtAuthInfo {
  /** The realm key that verified the token's signature. */
  readonly key: KeyObject;
  /** The verified claims (the user too, unless a subclass's `validate` maps them). */
  readonly claims: VoxKeyClaims;
}

/**
 * The `voxkey-jwt` Passport strategy: validates a JWT access token locally.
 *
 * It runs passport-jwt's flow (token from the request, key for its header, signature, claims,
 * `validate`, then `success` or `fail`) with the signature and claim checks of this library:
 * jsonwebtoken, which passport-jwt verifies with, has no EdDSA and reports its reasons only as
 * English text. Every refusal is a `fail(VoxKeyTokenError, 401)` with a typed reason; a key set
 * that cannot be fetched is a `fail(VoxKeyJwksError, 503)`, so the token is never called bad
 * while it could not be checked. Success reports the claims as the user and the verifying key
 * as `info` ({@link VoxKeyJwtAuthInfo}).
 */
@Injectable()
export class VoxKeyJwtStrategy
  extends PassportStrategy(Strategy, VOXKEY_STRATEGY)
  implements OnModuleInit, OnApplicationShutdown
{
  constructor(
    @Inject(VOXKEY_RESOLVED_OPTIONS) private readonly voxkeyOptions: ResolvedVoxKeyOptions,
    private readonly realms: RealmRegistry,
  ) {
    assertStrategyNamesFree();
    // passport-jwt's constructor requires these; its authenticate, which would use them, is replaced.
    super({
      jwtFromRequest: bearerTokenFromRequest,
      secretOrKeyProvider: (_request: unknown, _token: string, done: (error: unknown) => void) =>
        done(new VoxKeyTokenError('signature', 'not verified by this strategy')),
      passReqToCallback: true,
    } as StrategyOptionsWithRequest);
    // PassportStrategy registered the name in its constructor; take it back until the
    // application initialises, so a bootstrap that fails half-way leaves the name free.
    passport.unuse(VOXKEY_STRATEGY);
  }

  onModuleInit(): void {
    if (this.voxkeyOptions.validation === 'jwt') registerStrategy(VOXKEY_STRATEGY, this);
  }

  onApplicationShutdown(): void {
    unregisterStrategy(VOXKEY_STRATEGY, this);
  }

  /**
   * Passport's entry point, once per request (on a per-request copy of the strategy). A
   * sender-constrained token (`cnf`) passes only when the caller checks its binding itself
   * (`VoxKeyAuthGuard` says so with `bindingChecked`): through plain Passport it is refused.
   */
  override authenticate(
    request: Parameters<Strategy['authenticate']>[0],
    options?: BindingCheckOptions,
  ): void {
    const token = bearerTokenFromRequest(request);
    if (token === null) {
      return this.fail(new VoxKeyTokenError('malformed', 'no well-formed Bearer token'), 401);
    }
    this.verify(token)
      .then(async (info) => {
        assertBindingChecked(info.claims.cnf, options);
        const user: unknown = await this.validate(request, info.claims);
        if (!user) throw new VoxKeyTokenError('claims', 'validate() returned no user');
        return { user, info };
      })
      .then(
        ({ user, info }) => this.success(user, info),
        (failure: unknown) => reportFailure(this, failure),
      );
  }

  /**
   * Header, realm, key, signature, then claims: cheap checks first, the realm chosen by the exact
   * (still unverified) `iss` before any key is looked at, so only that realm's keys can verify
   * the token, and the signature checked before any claim is trusted.
   */
  private async verify(token: string): Promise<VoxKeyJwtAuthInfo> {
    const header = decodeJwsHeader(token);
    const alg = checkJwsHeader(header, this.voxkeyOptions);
    const payload = decodeJsonSegment(
      token.slice(token.indexOf('.') + 1, token.lastIndexOf('.')),
      'payload',
    );
    const iss = (payload as { iss?: unknown } | null)?.iss;
    const realm = await this.realms.resolveIssuer(iss);
    if (realm === undefined) {
      throw new VoxKeyTokenError(
        'issuer',
        `token issuer not accepted: ${this.realms.explainIssuer(iss)}`,
      );
    }
    const key = await realm.keys.getKey(header.kid, alg);
    let valid: boolean;
    try {
      valid = await verifyJwsSignature(token, alg, key);
    } catch {
      valid = false;
    }
    if (!valid) throw new VoxKeyTokenError('signature', 'the signature does not verify');
    const claims = validateClaims(payload, {
      clockTolerance: this.voxkeyOptions.clockTolerance,
      maxTokenAge: this.voxkeyOptions.maxTokenAge,
      audiences: realm.config.audiences,
      issuers: realm.config.issuers,
    });
    // The configured id, never a claim of the token's own; `dpop` is the guard's to set.
    claims.realm = realm.config.id;
    delete claims.dpop;
    return { claims, key };
  }

  /**
   * Maps the verified claims to the Passport user (`req.user`): the claims themselves. A
   * subclass may return something richer (or a promise of it); every check has already passed,
   * and no user is a 401. `request` is what Passport was given: the request's headers.
   */
  validate(_request: unknown, claims: VoxKeyClaims): VoxKeyClaims | Promise<unknown> {
    return claims;
  }
}
