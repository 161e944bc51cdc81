import { HttpException, HttpStatus } from '@nestjs/common';
import type { TokenRejectionReason } from './voxkey.errors.js';

/** Fixed descriptions sent to clients for each rejection reason. They never carry token content. */
const TOKEN_ERROR_DESCRIPTIONS: Readonly<Record<TokenRejectionReason, string>> = {
  malformed: 'The access token is malformed',
  encrypted: 'Encrypted access tokens are not accepted',
  algorithm: 'The access token algorithm is not accepted',
  critical_header: 'The access token has unsupported critical header parameters',
  token_type: 'The access token type is not accepted',
  unknown_key: 'The access token signing key is unknown',
  key_mismatch: 'The access token signing key does not match its algorithm',
  signature: 'The access token signature is invalid',
  expired: 'The access token expired',
  not_yet_valid: 'The access token is not valid yet',
  issued_in_future: 'The access token was issued in the future',
  too_old: 'The access token is too old',
  issuer: 'The access token issuer is not accepted',
  audience: 'The access token audience is not accepted',
  claims: 'The access token claims are invalid',
  too_large: 'The access token is too large',
  revoked: 'The access token was revoked',
  inactive: 'The access token is not active',
  binding: 'The access token is not bound to this request (DPoP key or client certificate)',
};

/** Quotes a value for an auth-param; inputs are checked at startup, this is a second guard. */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e]/g, '')}"`;
}

/**
 * Where a challenge points a client besides its `realm`: the route's RFC 9728 metadata document
 * and the scopes the route needs (space-separated). The guards fill it on routes of a
 * configured `resource`.
 * @see RFC 9728 §5.1, RFC 6750 §3
 */
export interface BearerChallenge {
  /** The `realm` parameter. */
  readonly realm: string;
  /** The `resource_metadata` parameter: the URL of the protected resource's metadata. */
  readonly resourceMetadata?: string;
  /** The `scope` parameter of a 401: every scope the route needs, space-separated. */
  readonly scope?: string;
  /**
   * With DPoP on, the proof algorithms accepted, space-separated: a `DPoP algs="..."` challenge
   * follows the Bearer one. @see RFC 9449 §7.1
   */
  readonly dpopAlgs?: string;
}

function challengeOf(realm: string | BearerChallenge): BearerChallenge {
  return typeof realm === 'string' ? { realm } : realm;
}

/**
 * An HTTP error of the Bearer scheme: the seed's JSON body (`statusCode`, `error`, `message`)
 * and the `WWW-Authenticate` challenge the guards set on the response.
 * @see RFC 6750 §3
 */
export abstract class BearerException extends HttpException {
  /** Value for the `WWW-Authenticate` response header. */
  readonly wwwAuthenticate: string;
  /** The RFC 6750 error code (`invalid_request`, `invalid_token`, `insufficient_scope`), if any. */
  readonly oauthError: string | undefined;
  /** The scopes a 403 asks for (and a 401 on a protected resource's route). */
  readonly scope: string | undefined;
  /** The `resource_metadata` URL of the challenge, on a protected resource's route. @see RFC 9728 §5.1 */
  readonly resourceMetadata: string | undefined;

  protected constructor(
    status: number,
    error: string,
    message: string,
    realm: string | BearerChallenge,
    params: Record<string, string> = {},
    /** Parameters of the DPoP challenge (its `error`), before `algs`. */
    dpopParams: Record<string, string> = {},
  ) {
    super({ statusCode: status, error, message }, status);
    const challenge = challengeOf(realm);
    const attributes = [`realm=${quote(challenge.realm)}`];
    if (challenge.resourceMetadata !== undefined) {
      attributes.push(`resource_metadata=${quote(challenge.resourceMetadata)}`);
    }
    for (const [name, value] of Object.entries(params)) attributes.push(`${name}=${quote(value)}`);
    // The Bearer challenge first: clients such as the MCP SDK's read only a leading one.
    let wwwAuthenticate = `Bearer ${attributes.join(', ')}`;
    // On a 401, where a client chooses its scheme; a 403's token was fine as sent.
    if (challenge.dpopAlgs !== undefined && status === HttpStatus.UNAUTHORIZED) {
      const dpop = Object.entries({
        ...dpopParams,
        algs: challenge.dpopAlgs,
        ...(challenge.resourceMetadata === undefined
          ? {}
          : { resource_metadata: challenge.resourceMetadata }),
      });
      wwwAuthenticate += `, DPoP ${dpop.map(([name, value]) => `${name}=${quote(value)}`).join(', ')}`;
    }
    this.wwwAuthenticate = wwwAuthenticate;
    this.oauthError = params.error ?? dpopParams.error;
    this.scope = params.scope;
    this.resourceMetadata = challenge.resourceMetadata;
  }
}

/**
 * 401 without an error code: the request carried no Bearer credentials. With a
 * `BearerChallenge`, the challenge names the metadata document and the scopes the route needs.
 * @see RFC 6750 §3.1, RFC 9728 §5.1
 */
export class MissingTokenException extends BearerException {
  constructor(realm: string | BearerChallenge) {
    const scope = challengeOf(realm).scope;
    super(
      HttpStatus.UNAUTHORIZED,
      'No token',
      'A Bearer access token is required in the Authorization header',
      realm,
      scope ? { scope } : {},
    );
  }
}

/** 400 `invalid_request`: the Authorization header is malformed. @see RFC 6750 §3.1 */
export class InvalidRequestException extends BearerException {
  constructor(
    realm: string | BearerChallenge,
    description = 'The Authorization header is malformed',
  ) {
    super(HttpStatus.BAD_REQUEST, 'Invalid request', description, realm, {
      error: 'invalid_request',
      error_description: description,
    });
  }
}

/** 401 `invalid_token`: the token failed validation. @see RFC 6750 §3.1 */
export class InvalidTokenException extends BearerException {
  constructor(
    realm: string | BearerChallenge,
    readonly reason: TokenRejectionReason | 'invalid' = 'invalid',
  ) {
    const description =
      reason === 'invalid' ? 'The access token is invalid' : TOKEN_ERROR_DESCRIPTIONS[reason];
    const scope = challengeOf(realm).scope;
    super(HttpStatus.UNAUTHORIZED, 'Invalid token', description, realm, {
      error: 'invalid_token',
      error_description: description,
      ...(scope ? { scope } : {}),
    });
  }
}

/**
 * 401 `invalid_dpop_proof` on the DPoP challenge: the request's DPoP proof is missing,
 * malformed, for another request, or used before. Always with the `algs` accepted.
 * @see RFC 9449 §7.1
 */
export class DpopProofException extends BearerException {
  constructor(realm: BearerChallenge & { dpopAlgs: string }) {
    const description = 'The DPoP proof is invalid';
    super(
      HttpStatus.UNAUTHORIZED,
      'Invalid DPoP proof',
      description,
      realm,
      {},
      {
        error: 'invalid_dpop_proof',
        error_description: description,
      },
    );
  }
}

/**
 * 401 `use_dpop_nonce`: the proof must carry the server nonce sent in `nonce`, which the
 * response gives in its `DPoP-Nonce` header (with `Cache-Control: no-store`).
 * @see RFC 9449 §8, §9
 */
export class UseDpopNonceException extends BearerException {
  constructor(
    realm: BearerChallenge & { dpopAlgs: string },
    /** The nonce the client must use, for the `DPoP-Nonce` header. */
    readonly nonce: string,
  ) {
    const description = 'The DPoP proof must carry the nonce in the DPoP-Nonce header';
    super(
      HttpStatus.UNAUTHORIZED,
      'DPoP nonce required',
      description,
      realm,
      {},
      {
        error: 'use_dpop_nonce',
        error_description: description,
      },
    );
  }
}

/**
 * 403 `insufficient_scope`: the token lacks a scope the route requires; `requiredScope` is every
 * scope the route needs, space-separated.
 * @see RFC 6750 §3.1
 */
export class InsufficientScopeException extends BearerException {
  constructor(realm: string | BearerChallenge, requiredScope: string) {
    const description = 'The access token lacks a required scope';
    super(HttpStatus.FORBIDDEN, 'Insufficient scope', description, realm, {
      error: 'insufficient_scope',
      error_description: description,
      scope: requiredScope,
    });
  }
}

/**
 * 503: the token could not be checked because a dependency (the realm's key set) is unavailable.
 * Fails closed: the request is not let through.
 */
export class AuthUnavailableException extends HttpException {
  /** Seconds after which a retry may succeed. */
  readonly retryAfter: number;

  constructor(retryAfterSeconds: number) {
    super(
      {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: 'Service Unavailable',
        message: 'The access token cannot be validated right now; try again later',
      },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
    this.retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/**
 * 403: the handler runs in an execution context the library does not authenticate (GraphQL,
 * WebSockets, microservices). The client gets a short fixed message; the guard logs the advice.
 */
export class UnsupportedContextException extends HttpException {
  constructor(readonly contextType: string) {
    super(
      {
        statusCode: HttpStatus.FORBIDDEN,
        error: 'Forbidden',
        message: 'This handler cannot be authenticated',
      },
      HttpStatus.FORBIDDEN,
    );
  }
}

/**
 * 403: a request carrying the token cookie (`tokenLocation.cookie`) with an unsafe method failed
 * the `tokenLocation.csrf` check. The token was not looked at, so this is neither a 401 nor an
 * OAuth error, and there is no challenge.
 * @see RFC 6750 §5.3
 */
export class CrossSiteRequestException extends HttpException {
  constructor() {
    super(
      {
        statusCode: HttpStatus.FORBIDDEN,
        error: 'Forbidden',
        message: 'Cross-site request refused',
      },
      HttpStatus.FORBIDDEN,
    );
  }
}
