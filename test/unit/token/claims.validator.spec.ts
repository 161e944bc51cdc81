import type { VoxKeyTokenError } from '../../../lib/index';
import { type ClaimCheckOptions, validateClaims } from '../../../lib/token/claims.validator';

const now = 1_800_000_000;
const ISS = 'https://your-domain.com/oauth2/realm';
const AUD = 'https://api.example.com';
const options = {
  clockTolerance: 5,
  maxTokenAge: undefined,
  audiences: [AUD, 'https://second.example.com'],
  issuers: [ISS],
} satisfies ClaimCheckOptions;

const reasonOf = (claims: unknown, opts: ClaimCheckOptions = options) => {
  try {
    validateClaims(claims, opts, now);
  } catch (error) {
    return (error as VoxKeyTokenError).reason;
  }
  return 'accepted';
};
const good = { iss: ISS, aud: AUD, exp: now + 60 };

describe('validateClaims', () => {
  it.each([
    [{}, 'accepted'],
    [{ exp: now - 4 }, 'accepted'],
    [{ exp: now - 5 }, 'expired'],
    [{ exp: undefined }, 'claims'],
    [{ exp: '1' }, 'claims'],
    [{ exp: Number.POSITIVE_INFINITY }, 'claims'],
    [{ nbf: now + 5 }, 'accepted'],
    [{ nbf: now + 6 }, 'not_yet_valid'],
    [{ nbf: 'soon' }, 'claims'],
    [{ aud: 'https://second.example.com' }, 'accepted'],
    [{ aud: ['https://other.example', AUD] }, 'accepted'],
    [{ aud: 'https://other.example' }, 'audience'],
    [{ aud: [] }, 'audience'],
    [{ aud: undefined }, 'audience'],
    [{ aud: `${AUD}/` }, 'audience'],
    [{ aud: [42] }, 'audience'],
    [{ iss: `${ISS}/` }, 'issuer'],
    [{ iss: ISS.toUpperCase() }, 'issuer'],
    [{ iss: undefined }, 'issuer'],
    [{ iat: now + 5 }, 'accepted'],
    [{ iat: now + 6 }, 'issued_in_future'],
    [{ iat: 'x' }, 'claims'],
    [{ cnf: 'x' }, 'binding'],
    [{ cnf: ['x'] }, 'binding'],
    [{ cnf: null }, 'binding'],
    // The binding itself is the guard's to check (TokenBinding).
    [{ cnf: { jkt: 'x' } }, 'accepted'],
    [{ sub: 1 }, 'claims'],
    [{ client_id: {} }, 'claims'],
    [{ jti: [] }, 'claims'],
  ])('%j: %s', (override, reason) => {
    expect(reasonOf({ ...good, ...override })).toBe(reason);
  });

  it.each([
    ['a string', 'malformed'],
    [[1], 'malformed'],
    [null, 'malformed'],
  ])('a payload that is %j: %s', (payload, reason) => {
    expect(reasonOf(payload)).toBe(reason);
  });

  it('with maxTokenAge, iat is required and may be that old (plus the tolerance) at most', () => {
    const strict = { ...options, maxTokenAge: 60 } as ClaimCheckOptions;
    expect(reasonOf({ ...good, iat: now - 64 }, strict)).toBe('accepted');
    expect(reasonOf({ ...good, iat: now - 65 }, strict)).toBe('too_old');
    expect(reasonOf(good, strict)).toBe('too_old');
  });

  it('checks the lifetime before the audience and the issuer', () => {
    expect(reasonOf({ exp: now - 60, aud: 'x', iss: 'y' })).toBe('expired');
    expect(reasonOf({ ...good, aud: 'x', iss: 'y' })).toBe('audience');
  });
});
