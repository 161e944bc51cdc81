import type { TokenRejectionReason } from '../../lib/index';
import { RevocationList } from '../../lib/services/revocation-list';
import { MAX_TOKEN_LENGTH } from '../../lib/voxkey.constants';
import { PLATFORMS } from '../support/app';
import { CaptureLogger } from '../support/capture-logger';
import { realmScenario } from '../support/realm-scenario';
import { b64url, payloadOf } from '../support/token-forge';

/** The client-facing text of each reason, as RFC 6750's error_description. */
const DESCRIPTIONS: Partial<Record<TokenRejectionReason, string>> = {
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
  binding: 'The access token is not bound to this request (DPoP key or client certificate)',
};

/**
 * Every typed reason the JWT path reports, end to end through a real app: the status, the
 * challenge's `error_description` (built from the reason, never from a dependency's message)
 * and the debug log line that names the reason. (`inactive` needs an introspection endpoint:
 * see active-token.e2e-spec and introspection.e2e-spec.)
 */
describe.each(PLATFORMS)('typed rejection reasons on %s', (platform) => {
  const logger = new CaptureLogger();
  const now = () => Math.floor(Date.now() / 1000);
  const { ctx, call } = realmScenario(
    platform,
    {},
    { algorithms: ['RS256', 'ES256'], maxTokenAge: 3600 },
    { logger },
  );
  const cases: [TokenRejectionReason, () => string | Promise<string>][] = [
    ['malformed', () => 'abc.def'],
    ['malformed', () => `bm90IGpzb24.${ctx.realm.mint().split('.')[1]}.c2ln`],
    ['encrypted', () => 'a.b.c.d.e'],
    ['algorithm', () => ctx.realm.mint({ header: { alg: 'PS256' } })],
    ['critical_header', () => ctx.realm.mint({ header: { crit: ['exp'] } })],
    ['token_type', () => ctx.realm.mint({ header: { typ: 'id_token+jwt' } })],
    // A DPoP-bound token sent as Bearer (DPoP is off here: no resource, no publicUrl).
    ['binding', () => ctx.realm.mint({ claims: { cnf: { jkt: 'thumbprint' } } })],
    ['binding', () => ctx.realm.mint({ claims: { cnf: 'thumbprint' } })],
    ['unknown_key', () => ctx.realm.mint({ header: { kid: 'no-such-kid' } })],
    // An RSA key named by a token that claims ES256.
    ['key_mismatch', () => ctx.realm.mint({ header: { alg: 'ES256' } })],
    [
      'signature',
      () => {
        const [header, , signature] = ctx.realm.mint().split('.');
        return `${header}.${b64url({ ...payloadOf(ctx.realm.mint()), sub: 'admin' })}.${signature}`;
      },
    ],
    ['expired', () => ctx.realm.mint({ expiresIn: -60 })],
    ['not_yet_valid', () => ctx.realm.mint({ claims: { nbf: now() + 600 } })],
    ['issued_in_future', () => ctx.realm.mint({ claims: { iat: now() + 600 } })],
    ['too_old', () => ctx.realm.mint({ claims: { iat: now() - 7200 } })],
    ['too_old', () => ctx.realm.mint({ claims: { iat: undefined } })],
    ['issuer', () => ctx.realm.mint({ claims: { iss: `${ctx.realm.issuer}/` } })],
    ['audience', () => ctx.realm.mint({ claims: { aud: 'https://other.example' } })],
    ['claims', () => ctx.realm.mint({ claims: { exp: undefined } })],
    ['claims', () => ctx.realm.mint({ claims: { sub: 42 } })],
    ['too_large', () => 'a'.repeat(MAX_TOKEN_LENGTH + 1)],
    [
      'revoked',
      async () => {
        const token = ctx.realm.mint();
        await ctx.app.get(RevocationList).add(token, Date.now() + 60_000, 'default');
        return token;
      },
    ],
  ];

  it.each(cases)(
    '%s: 401 with its own description, and the reason in the debug log',
    async (reason, make) => {
      const token = await make();
      const lines = logger.lines.length;
      const res = await call(token);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        statusCode: 401,
        error: 'Invalid token',
        message: DESCRIPTIONS[reason],
      });
      expect(res.headers['www-authenticate']).toBe(
        `Bearer realm="https://api.example.test", error="invalid_token", error_description="${DESCRIPTIONS[reason]}"`,
      );
      const logged = logger.lines.slice(lines).filter((line) => line.startsWith('debug'));
      // A refused issuer's line also quotes the issuer the token named and the accepted ones.
      const detail = reason === 'issuer' ? `[\\w ,'+()":/.;-]+` : `[\\w ,'+()-]+`;
      expect(logged).toEqual([
        expect.stringMatching(
          new RegExp(`^debug Rejected \\(401\\): ${reason}: ${detail} VoxKeyAuthGuard$`),
        ),
      ]);
      // The log never quotes the token.
      expect(logged.join('\n')).not.toContain(token.slice(-20));
    },
  );

  it('a valid token passes the same app', async () => {
    expect((await call(ctx.realm.mint())).status).toBe(200);
  });
});
