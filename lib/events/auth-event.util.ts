import type { HttpException } from '@nestjs/common';
import {
  AuthUnavailableException,
  CrossSiteRequestException,
  DpopProofException,
  InsufficientScopeException,
  InvalidRequestException,
  InvalidTokenException,
  MissingTokenException,
  UnsupportedContextException,
  UseDpopNonceException,
} from '../errors/bearer.exceptions.js';
import type { TokenRejectionReason } from '../errors/voxkey.errors.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { listening, publish } from './event-channels.js';
import type { VoxKeyEventContext, VoxKeyRefusalReason } from './voxkey-event.interface.js';

/**
 * The event reason of each token rejection: the same name where the catalogue has one, else the
 * nearest of its fixed set (the debug log keeps the precise reason).
 */
const TOKEN_REASONS: Readonly<Record<TokenRejectionReason | 'invalid', VoxKeyRefusalReason>> = {
  malformed: 'malformed',
  encrypted: 'malformed',
  critical_header: 'malformed',
  algorithm: 'algorithm',
  key_mismatch: 'algorithm',
  token_type: 'token_type',
  unknown_key: 'unknown_key',
  signature: 'signature',
  expired: 'expired',
  too_old: 'expired',
  not_yet_valid: 'not_yet_valid',
  issued_in_future: 'not_yet_valid',
  issuer: 'issuer',
  audience: 'audience',
  claims: 'claims',
  too_large: 'too_large',
  revoked: 'revoked',
  inactive: 'inactive',
  binding: 'binding',
  invalid: 'invalid',
};

/** The catalogue reason of one of the library's refusals; undefined for any other exception. */
export function refusalReason(refusal: HttpException): VoxKeyRefusalReason | undefined {
  if (refusal instanceof InvalidTokenException) return TOKEN_REASONS[refusal.reason];
  if (refusal instanceof MissingTokenException) return 'no_token';
  if (refusal instanceof InvalidRequestException) return 'invalid_request';
  if (refusal instanceof InsufficientScopeException) return 'insufficient_scope';
  if (refusal instanceof DpopProofException) return 'dpop_proof';
  if (refusal instanceof UseDpopNonceException) return 'dpop_nonce';
  if (refusal instanceof CrossSiteRequestException) return 'cross_site';
  if (refusal instanceof AuthUnavailableException) return 'unavailable';
  if (refusal instanceof UnsupportedContextException) return 'unsupported_context';
  return undefined;
}

/** The realm a refusal's event names when the call itself named none: the only one, if just one. */
export function soleRealm(options: ResolvedVoxKeyOptions): string | undefined {
  return options.multiRealm ? undefined : options.realms[0].id;
}

/**
 * When a guarded call starts: `performance.now()` while someone listens to `voxkey:auth`, else
 * undefined, and then the call builds no event at all.
 */
export function authEventStart(): number | undefined {
  return listening('auth') ? performance.now() : undefined;
}

/** Publishes `auth.accepted` for a call timed from `started`. */
export function publishAccepted(
  context: VoxKeyEventContext,
  realm: string,
  cached: boolean,
  started: number,
): void {
  publish({
    type: 'auth.accepted',
    context,
    realm,
    cached,
    durationMs: performance.now() - started,
  });
}

/** Publishes `auth.refused` for one of the library's refusals (any other exception is no event). */
export function publishRefused(
  context: VoxKeyEventContext,
  refusal: HttpException,
  realm: string | undefined,
  started: number,
  anonymous = false,
): void {
  const reason = refusalReason(refusal);
  if (reason === undefined) return;
  publish({
    type: 'auth.refused',
    context,
    realm,
    reason,
    status: refusal.getStatus(),
    anonymous,
    durationMs: performance.now() - started,
  });
}
