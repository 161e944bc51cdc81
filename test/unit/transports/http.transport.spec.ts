import { CrossSiteRequestException, MissingTokenException } from '../../../lib/index';
import { httpTransport } from '../../../lib/transports/http.transport';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';
import { contextFor } from '../../support/execution-context';

const base = {
  domain: 'https://your-domain.com',
  realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
  audience: 'https://api.example.com',
};
const cookieOptions = resolveVoxKeyOptions({
  ...base,
  tokenLocation: { cookie: 'vx', csrf: { origins: ['https://app.example.com'] } },
});
class Handlers {
  open() {}
}
const http = (request: Record<string, unknown>) =>
  contextFor('http', Handlers, Handlers.prototype.open, request);

describe('httpTransport', () => {
  it('reads the configured token locations', () => {
    const request = { method: 'GET', headers: { cookie: 'vx=abc' } };
    const { context } = http(request);
    expect(httpTransport.credentials(context, cookieOptions)).toEqual({
      kind: 'token',
      token: 'abc',
      fromCookie: true,
    });
    expect(httpTransport.credentials(context, resolveVoxKeyOptions(base))).toEqual({
      kind: 'missing',
    });
  });

  it('gives the token it was told the user came from, and only while the request has a user', () => {
    const request: Record<string, unknown> = { headers: { authorization: 'Bearer header' } };
    const { context } = http(request);
    expect(httpTransport.getToken(context)).toBeUndefined();
    httpTransport.setUser(context, { sub: 'alice' }, 'from-cookie');
    expect([request.user, httpTransport.getUser(context)]).toEqual([
      { sub: 'alice' },
      { sub: 'alice' },
    ]);
    expect(httpTransport.getToken(context)).toBe('from-cookie');
    // A user set by something else has no verified token.
    const other = http({ user: { sub: 'bob' }, headers: { authorization: 'Bearer header' } });
    expect(httpTransport.getToken(other.context)).toBeUndefined();
  });

  it('sets the challenge of a Bearer refusal, and none for a cross-site refusal', async () => {
    const bearer = http({ headers: {} });
    await httpTransport.refuse(bearer.context, new MissingTokenException('api'));
    expect(bearer.headers['www-authenticate']).toBe('Bearer realm="api"');
    const crossSite = http({ headers: {} });
    const refusal = new CrossSiteRequestException();
    await expect(httpTransport.refuse(crossSite.context, refusal)).resolves.toBe(refusal);
    expect(crossSite.headers).toEqual({});
  });
});
