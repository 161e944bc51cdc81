import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { KeyObject } from 'node:crypto';
import { Strategy, type StrategyOptionsWithRequest } from 'passport-jwt';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';
import { validateClaims } from '../jwt/claims.validator.js';
import { bearerTokenFromRequest } from '../jwt/request-token.js';
import { checkJwsHeader, decodeJwsHeader } from '../jwt/jwt-header.js';
import { JwksKeyStore } from '../jwt/jwks-key.store.js';
import { VOXKEY_RESOLVED_OPTIONS, VOXKEY_STRATEGY } from '../voxkey.constants.js';

type KeyCallback = (error: unknown, key?: KeyObject) => void;

/**
 * The `voxkey-jwt` Passport strategy: passport-jwt verifies the signature and the registered
 * claims with a key chosen by the header checks and the jwks-rsa backed key store; `validate`
 * finishes the claim checks and returns the claims as `req.user`.
 */
@Injectable()
export class VoxKeyJwtStrategy extends PassportStrategy(Strategy, VOXKEY_STRATEGY) {
  constructor(
    @Inject(VOXKEY_RESOLVED_OPTIONS) private readonly options: ResolvedVoxKeyOptions,
    keyStore: JwksKeyStore,
  ) {
    const secretOrKeyProvider = (_request: unknown, rawToken: string, done: KeyCallback): void => {
      let header;
      try {
        header = decodeJwsHeader(rawToken);
        checkJwsHeader(header, options);
      } catch (error) {
        return done(error);
      }
      keyStore.getKey(header.kid, header.alg).then(
        (key) => done(null, key),
        (error: unknown) => done(error),
      );
    };
    super({
      jwtFromRequest: bearerTokenFromRequest,
      // jsonwebtoken accepts KeyObjects, which spares a PEM parse per request.
      secretOrKeyProvider,
      issuer: options.endpoints.issuer,
      audience: [...options.audiences],
      algorithms: [...options.algorithms],
      jsonWebTokenOptions: {
        clockTolerance: options.clockTolerance,
        maxAge: options.maxTokenAge,
      },
    } as unknown as StrategyOptionsWithRequest);
  }

  /** Called by passport-jwt with the verified payload; its result becomes `req.user`. */
  validate(payload: unknown): VoxKeyClaims {
    return validateClaims(payload, this.options);
  }
}
