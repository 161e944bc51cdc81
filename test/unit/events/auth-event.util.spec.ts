import { HttpException } from '@nestjs/common';
import { channel } from 'node:diagnostics_channel';
import {
  AuthUnavailableException,
  CrossSiteRequestException,
  DpopProofException,
  InsufficientScopeException,
  InvalidRequestException,
  InvalidTokenException,
  MissingTokenException,
  type TokenRejectionReason,
  UnsupportedContextException,
  UseDpopNonceException,
  VOXKEY_CHANNELS,
  VOXKEY_REFUSAL_REASONS,
  type VoxKeyRefusalReason,
} from '../../../lib/index';
import {
  authEventStart,
  publishAccepted,
  publishRefused,
  refusalReason,
} from '../../../lib/events/auth-event.util';

const TOKEN_REASONS: [TokenRejectionReason | 'invalid', VoxKeyRefusalReason][] = [
  ['malformed', 'malformed'],
  ['encrypted', 'malformed'],
  ['critical_header', 'malformed'],
  ['algorithm', 'algorithm'],
  ['key_mismatch', 'algorithm'],
  ['token_type', 'token_type'],
  ['unknown_key', 'unknown_key'],
  ['signature', 'signature'],
  ['expired', 'expired'],
  ['too_old', 'expired'],
  ['not_yet_valid', 'not_yet_valid'],
  ['issued_in_future', 'not_yet_valid'],
  ['issuer', 'issuer'],
  ['audience', 'audience'],
  ['claims', 'claims'],
  ['too_large', 'too_large'],
  ['revoked', 'revoked'],
  ['inactive', 'inactive'],
  ['binding', 'binding'],
  ['invalid', 'invalid'],
];

const dpop = { realm: 'api', dpopAlgs: 'ES256' };
const OTHER_REFUSALS: [HttpException, VoxKeyRefusalReason][] = [
  [new MissingTokenException('api'), 'no_token'],
  [new InvalidRequestException('api'), 'invalid_request'],
  [new CrossSiteRequestException(), 'cross_site'],
  [new InsufficientScopeException('api', 'read:posts'), 'insufficient_scope'],
  [new DpopProofException(dpop), 'dpop_proof'],
  [new UseDpopNonceException(dpop, 'nonce'), 'dpop_nonce'],
  [new AuthUnavailableException(1), 'unavailable'],
  [new UnsupportedContextException('kafka'), 'unsupported_context'],
];

describe('refusalReason', () => {
  it.each(TOKEN_REASONS)('invalid_token (%s) → %s', (reason, expected) => {
    expect(refusalReason(new InvalidTokenException('api', reason))).toBe(expected);
  });

  it.each(OTHER_REFUSALS.map(([refusal, reason]) => [refusal.constructor.name, refusal, reason]))(
    '%s → %s',
    (_name, refusal, expected) => {
      expect(refusalReason(refusal as HttpException)).toBe(expected);
    },
  );

  it('every reason of the fixed set is the answer to some refusal, and nothing else is', () => {
    const produced = new Set([
      ...TOKEN_REASONS.map(([, reason]) => reason),
      ...OTHER_REFUSALS.map(([, reason]) => reason),
    ]);
    expect([...produced].sort()).toEqual([...VOXKEY_REFUSAL_REASONS].sort());
  });

  it('an exception that is not one of the library refusals has no reason', () => {
    expect(refusalReason(new HttpException('teapot', 418))).toBeUndefined();
  });
});

describe('auth events', () => {
  const auth = channel(VOXKEY_CHANNELS.auth);
  const seen: unknown[] = [];
  const listener = (message: unknown) => seen.push(message);
  afterEach(() => {
    auth.unsubscribe(listener);
    seen.length = 0;
  });

  it('authEventStart is undefined while nobody listens, a time once someone does', () => {
    expect(authEventStart()).toBeUndefined();
    auth.subscribe(listener);
    const started = authEventStart();
    expect(typeof started).toBe('number');
    expect(started).toBeLessThanOrEqual(performance.now());
  });

  it('publishAccepted and publishRefused build the events, timed from the start', () => {
    auth.subscribe(listener);
    const started = performance.now() - 5;
    publishAccepted('rpc', 'acme', true, started);
    publishRefused('ws', new InsufficientScopeException('api', 'x'), undefined, started, true);
    publishRefused('http', new HttpException('teapot', 418), 'acme', started);
    expect(seen).toEqual([
      {
        type: 'auth.accepted',
        context: 'rpc',
        realm: 'acme',
        cached: true,
        durationMs: expect.any(Number),
      },
      {
        type: 'auth.refused',
        context: 'ws',
        realm: undefined,
        reason: 'insufficient_scope',
        status: 403,
        anonymous: true,
        durationMs: expect.any(Number),
      },
    ]);
    for (const event of seen as { durationMs: number }[]) {
      expect(event.durationMs).toBeGreaterThanOrEqual(5);
    }
  });
});
