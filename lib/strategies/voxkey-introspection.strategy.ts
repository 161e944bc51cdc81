import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy } from 'passport-strategy';
import { VoxKeyTokenError } from '../errors/voxkey.errors.js';
import type { IntrospectionResult } from '../interfaces/introspection-result.interface.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { bearerTokenFromRequest, type RequestWithHeaders } from '../token/bearer-header.parser.js';
import { RealmRegistry } from '../realm/realm.registry.js';
import { unverifiedPayload } from '../token/jws-header.js';
import { IntrospectionService } from '../services/introspection.service.js';
import { VOXKEY_INTROSPECTION_STRATEGY, VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';
import {
  assertStrategyNamesFree,
  assertBindingChecked,
  type BindingCheckOptions,
  registerStrategy,
  reportFailure,
  unregisterStrategy,
} from './strategy-registry.js';

/**
 * Why an introspection answer cannot authenticate a request on its own, or undefined: it must be
 * active (which already covers audience and issuer), carry `exp`, be valid now (`nbf`), and be an
 * access token (`Bearer` or `DPoP`; an active refresh token is not). A `cnf` binding is checked
 * by the guard against the request.
 * @see RFC 7662 §2.2, RFC 9449 §6.2
 */
function bearerUseProblem(result: IntrospectionResult, clockTolerance: number): string | undefined {
  if (!result.active) return 'not active';
  if (typeof result.exp !== 'number') return 'no exp';
  const now = Date.now() / 1000;
  if (typeof result.nbf === 'number' && result.nbf > now + clockTolerance) return 'not yet valid';
  const type = result.token_type?.toLowerCase();
  if (type !== undefined && type !== 'bearer' && type !== 'access_token' && type !== 'dpop') {
    return 'not an access token';
  }
  // A DPoP token names its key in `cnf.jkt` (RFC 9449 §6.2); without it nothing can be checked.
  const jkt = (result.cnf as { jkt?: unknown } | undefined)?.jkt;
  if (type === 'dpop' && typeof jkt !== 'string') return 'a DPoP token without cnf.jkt';
  // A `cnf` binding (whatever `token_type` says) is the guard's to check, on every request.
  return undefined;
}

/**
 * The `voxkey-introspection` Passport strategy, used with `validation: 'introspection'`: a token
 * (opaque or JWT) is accepted only when the realm's introspection endpoint says it is an active
 * bearer access token for this API, and `req.user` is the introspection answer. An endpoint that
 * cannot answer is a `fail(VoxKeyError, 503)`, never a 401.
 * @see RFC 7662
 */
@Injectable()
export class VoxKeyIntrospectionStrategy
  extends PassportStrategy(Strategy, VOXKEY_INTROSPECTION_STRATEGY)
  implements OnModuleInit, OnApplicationShutdown
{
  constructor(
    @Inject(VOXKEY_RESOLVED_OPTIONS) private readonly voxkeyOptions: ResolvedVoxKeyOptions,
    private readonly introspection: IntrospectionService,
    private readonly realms: RealmRegistry,
  ) {
    assertStrategyNamesFree();
    super();
    // As for voxkey-jwt: registered once the application initialises.
    passport.unuse(VOXKEY_INTROSPECTION_STRATEGY);
  }

  onModuleInit(): void {
    if (this.voxkeyOptions.validation === 'introspection') {
      registerStrategy(VOXKEY_INTROSPECTION_STRATEGY, this);
    }
  }

  onApplicationShutdown(): void {
    unregisterStrategy(VOXKEY_INTROSPECTION_STRATEGY, this);
  }

  /**
   * Passport's entry point, once per request (on a per-request copy of the strategy). With
   * several realms the realm asked is the one a JWT's `iss` names, else the one the guard names
   * (`options.realm`, when the route or `tenancy.resolve` binds the call to exactly one); a token
   * no realm can be told for is refused like an issuer that is not accepted.
   */
  override authenticate(
    request: RequestWithHeaders,
    options?: { realm?: string } & BindingCheckOptions,
  ): void {
    const token = bearerTokenFromRequest(request);
    if (token === null) {
      return this.fail(new VoxKeyTokenError('malformed', 'no well-formed Bearer token'), 401);
    }
    this.realmFor(token, options?.realm)
      .then((realm) =>
        this.introspection.introspect(token, { tokenTypeHint: 'access_token', realm }),
      )
      .then((answer) => {
        let result = answer;
        const problem = bearerUseProblem(result, this.voxkeyOptions.clockTolerance);
        if (problem) throw new VoxKeyTokenError('inactive', `introspection: ${problem}`);
        assertBindingChecked(result.cnf, options);
        // `dpop` is the guard's to set, from a proof it checked; never the realm's member.
        if (result.dpop !== undefined) result = { ...result, dpop: undefined };
        return Promise.resolve(this.validate(request, result)).then((user) => ({ user, result }));
      })
      .then(
        // The accepted answer as `info.claims`: its `exp` is when a socket using it is closed.
        ({ user, result }) => this.success(user, { claims: result }),
        (failure: unknown) => reportFailure(this, failure),
      );
  }

  /** The id of the realm to ask about `token`: undefined with the single-realm options. */
  private async realmFor(token: string, named: string | undefined): Promise<string | undefined> {
    if (!this.voxkeyOptions.multiRealm) return undefined;
    // A JWT goes to the realm its `iss` names, never to another (the binding refuses it after):
    // its token is sent to no realm but its own.
    const realm =
      (await this.realms.resolveIssuer(unverifiedPayload(token)?.iss)) ??
      (named === undefined ? undefined : this.realms.get(named));
    if (realm === undefined) {
      throw new VoxKeyTokenError(
        'issuer',
        'token issuer not accepted: no realm can be told for it',
      );
    }
    return realm.config.id;
  }

  /** Maps an accepted introspection answer to the Passport user (`req.user`): the answer itself. */
  validate(_request: unknown, result: IntrospectionResult): IntrospectionResult {
    return result;
  }
}
