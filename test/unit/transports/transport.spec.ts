import { EventEmitter } from 'node:events';
import {
  AuthUnavailableException,
  CrossSiteRequestException,
  InsufficientScopeException,
  InvalidTokenException,
  MissingTokenException,
  UnsupportedContextException,
} from '../../../lib/index';
import {
  caseInsensitive,
  combineCredentials,
  handshakeContext,
  headerCredentials,
  isRefusal,
  rawTokenCredentials,
  refusalFields,
  rememberUser,
  requestCredentials,
  scheduleClose,
  tokenOf,
  userOf,
} from '../../../lib/transports/transport';

const TOKEN = 'aaa.bbb.ccc';

describe('credentials from a transport’s sources', () => {
  it('a raw-token source takes the token itself or Bearer <token>, and nothing else', () => {
    expect(rawTokenCredentials(TOKEN)).toEqual({ kind: 'token', token: TOKEN });
    expect(rawTokenCredentials(`bearer ${TOKEN}`)).toEqual({ kind: 'token', token: TOKEN });
    for (const absent of [undefined, null, ''])
      expect(rawTokenCredentials(absent).kind).toBe('missing');
    expect(rawTokenCredentials(42).kind).toBe('malformed');
    expect(rawTokenCredentials(`${TOKEN} junk`).kind).toBe('malformed');
  });

  it('a header source takes Bearer credentials; a list of values is malformed', () => {
    expect(headerCredentials(`Bearer ${TOKEN}`)).toEqual({ kind: 'token', token: TOKEN });
    expect(headerCredentials(undefined).kind).toBe('missing');
    expect(headerCredentials('Basic dXNlcg==').kind).toBe('missing');
    expect(headerCredentials([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]).kind).toBe('malformed');
  });

  it('a request source counts raw Authorization fields; no request is no token', () => {
    expect(requestCredentials(undefined).kind).toBe('missing');
    const twice = {
      headers: { authorization: `Bearer ${TOKEN}` },
      rawHeaders: ['Authorization', `Bearer ${TOKEN}`, 'authorization', `Bearer ${TOKEN}`],
    };
    expect(requestCredentials(twice).kind).toBe('malformed');
  });

  it('combines sources: malformed wins, the same token twice is one, two different ones are malformed', () => {
    const token = (value: string) => ({ kind: 'token' as const, token: value });
    expect(combineCredentials([{ kind: 'missing' }, token('a')])).toEqual(token('a'));
    expect(combineCredentials([token('a'), token('a')])).toEqual(token('a'));
    expect(combineCredentials([token('a'), token('b')])).toEqual({
      kind: 'malformed',
      detail: 'two different credentials for one call',
    });
    expect(combineCredentials([token('a'), { kind: 'too_large' }]).kind).toBe('too_large');
    expect(combineCredentials([token('a'), { kind: 'cross_site' }]).kind).toBe('cross_site');
    expect(combineCredentials([]).kind).toBe('missing');
  });

  it('reads a name in any letter case; two spellings are two values', () => {
    expect(caseInsensitive({ Authorization: 'x' }, 'authorization')).toBe('x');
    expect(caseInsensitive({ authorization: 'x', AUTHORIZATION: 'y' }, 'authorization')).toEqual([
      'x',
      'y',
    ]);
    expect(caseInsensitive(null, 'authorization')).toBeUndefined();
    expect(caseInsensitive('text', 'authorization')).toBeUndefined();
  });
});

describe('refusals', () => {
  it('carry the fields every error form is built from', () => {
    expect(refusalFields(new InsufficientScopeException('api', 'read:posts'))).toMatchObject({
      statusCode: 403,
      error: 'Insufficient scope',
      code: 'insufficient_scope',
      scope: 'read:posts',
      challenge: expect.stringContaining('scope="read:posts"'),
    });
    expect(refusalFields(new MissingTokenException('api'))).toMatchObject({
      statusCode: 401,
      code: undefined,
    });
    expect(refusalFields(new AuthUnavailableException(2.2))).toMatchObject({
      statusCode: 503,
      retryAfter: 3,
    });
    // Not an OAuth error: no code, no challenge.
    expect(refusalFields(new CrossSiteRequestException())).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Cross-site request refused',
      code: undefined,
      scope: undefined,
      challenge: undefined,
      retryAfter: undefined,
    });
  });

  it('are only the library’s own exceptions', () => {
    expect(isRefusal(new InvalidTokenException('api', 'expired'))).toBe(true);
    expect(isRefusal(new UnsupportedContextException('custom'))).toBe(true);
    expect(isRefusal(new CrossSiteRequestException())).toBe(true);
    expect(isRefusal(new Error('other'))).toBe(false);
  });
});

describe('per-call users', () => {
  it('are kept per holder object, with their token', () => {
    const socket = {};
    expect(userOf(socket)).toBeUndefined();
    rememberUser(socket, { sub: 'u' }, TOKEN);
    expect([userOf(socket), tokenOf(socket)]).toEqual([{ sub: 'u' }, TOKEN]);
    expect([userOf(undefined), tokenOf(undefined)]).toEqual([undefined, undefined]);
  });

  it('no user (an anonymous @OptionalAuth() call) forgets what the holder kept', () => {
    const socket = {};
    rememberUser(socket, { sub: 'u' }, TOKEN);
    rememberUser(socket, undefined);
    expect([userOf(socket), tokenOf(socket)]).toEqual([undefined, undefined]);
  });
});

describe('scheduleClose', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('closes once the token’s last second has passed, and only then', () => {
    const close = jest.fn();
    scheduleClose(new EventEmitter(), Date.now() / 1000 + 2, close);
    jest.advanceTimersByTime(1_999);
    expect(close).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('a socket that closes first is never closed again; a later schedule replaces an earlier one', () => {
    const closed = new EventEmitter();
    const first = jest.fn();
    scheduleClose(closed, Date.now() / 1000 + 1, first);
    closed.emit('close');
    jest.advanceTimersByTime(2_000);
    expect(first).not.toHaveBeenCalled();

    const socket = new EventEmitter();
    const early = jest.fn();
    const late = jest.fn();
    scheduleClose(socket, Date.now() / 1000 + 1, early);
    scheduleClose(socket, Date.now() / 1000 + 3, late);
    jest.advanceTimersByTime(3_000);
    expect([early.mock.calls.length, late.mock.calls.length]).toEqual([0, 1]);
  });

  it('a socket scheduled at every message gets one close and one disconnect listener, which clear the latest timer', () => {
    const socket = new EventEmitter();
    const close = jest.fn();
    for (let i = 1; i <= 20; i++) scheduleClose(socket, Date.now() / 1000 + i, close);
    expect([socket.listenerCount('close'), socket.listenerCount('disconnect')]).toEqual([1, 1]);
    socket.emit('disconnect');
    jest.advanceTimersByTime(30_000);
    expect(close).not.toHaveBeenCalled();
  });
});

describe('handshakeContext', () => {
  it('is an HTTP context whose request is the handshake', () => {
    const request = { headers: {} };
    const context = handshakeContext(request);
    expect(context.getType()).toBe('http');
    expect(context.switchToHttp().getRequest()).toBe(request);
    expect(context.getArgByIndex(0)).toBe(request);
    expect(() => context.switchToWs()).toThrow(TypeError);
  });
});
