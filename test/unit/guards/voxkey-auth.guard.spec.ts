import { type ExecutionContext, Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  MissingTokenException,
  OptionalAuth,
  Public,
  UnsupportedContextException,
  VoxKeyAuthGuard,
  VoxKeyModule,
  type VoxKeyModuleOptions,
} from '../../../lib/index';
import { rememberUser, tokenOf, userOf } from '../../../lib/transports/transport';
import { type ContextType, contextFor } from '../../support/execution-context';

const moduleOptions: VoxKeyModuleOptions = {
  domain: 'https://your-domain.com',
  realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
  audience: 'https://api.example.com',
};

class Handlers {
  open() {}
  @Public() publicRoute() {}
  @OptionalAuth() optional() {}
  @OptionalAuth({ invalidToken: 'anonymous' }) lenient() {}
}
@Public()
class PublicHandlers {
  any() {}
}

beforeAll(() => Logger.overrideLogger(false));

describe('VoxKeyAuthGuard', () => {
  // The module compiled but not initialised: its strategy is not registered with Passport, as
  // for a request still in flight while the application closes.
  let guard: VoxKeyAuthGuard;
  let moduleRef: TestingModule | undefined;
  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [VoxKeyModule.forRoot(moduleOptions)],
    }).compile();
    guard = moduleRef.get(VoxKeyAuthGuard);
  });
  afterAll(async () => {
    await moduleRef?.close();
  });
  const activate = (context: ExecutionContext) => guard.canActivate(context);

  it('a refused call leaves its socket without the user an earlier call kept', async () => {
    const client = { handshake: { auth: {}, headers: {} } };
    rememberUser(client, { sub: 'alice' }, 'aaa.bbb.ccc');
    const { context } = contextFor('ws', Handlers, Handlers.prototype.open);
    const ws = { ...context, switchToWs: () => ({ getClient: () => client, getData: () => ({}) }) };
    await expect(activate(ws as unknown as ExecutionContext)).rejects.toMatchObject({
      error: { statusCode: 401, error: 'No token' },
    });
    expect([userOf(client), tokenOf(client)]).toEqual([undefined, undefined]);
  });

  it('denies a context type NestJS does not have with a short fixed message, and logs the advice', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { context } = contextFor('custom', Handlers, Handlers.prototype.open);
    await expect(activate(context)).rejects.toThrow(UnsupportedContextException);
    await expect(activate(context)).rejects.toMatchObject({
      response: { statusCode: 403, message: 'This handler cannot be authenticated' },
    });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(`'custom'`));
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('@Public()'));
    warn.mockRestore();
  });

  it.each([
    ['graphql', { extensions: { code: 'UNAUTHENTICATED', statusCode: 401, error: 'No token' } }],
    ['ws', { error: { status: 'error', statusCode: 401, error: 'No token' } }],
    ['rpc', { error: { status: 'error', statusCode: 401, error: 'No token' } }],
  ])("refuses a %s call without a token in that context's own form", async (type, form) => {
    const { context } = contextFor(type, Handlers, Handlers.prototype.open);
    await expect(activate(context)).rejects.toMatchObject(form);
  });

  it.each<ContextType>(['http', 'graphql', 'ws', 'rpc'])(
    'lets @Public() through in the %s context',
    async (type) => {
      await expect(
        activate(contextFor(type, Handlers, Handlers.prototype.publicRoute).context),
      ).resolves.toBe(true);
      await expect(
        activate(contextFor(type, PublicHandlers, PublicHandlers.prototype.any).context),
      ).resolves.toBe(true);
    },
  );

  it('answers 401 with a challenge when no token is sent, before Passport runs', async () => {
    const { context, headers } = contextFor('http', Handlers, Handlers.prototype.open, {
      headers: {},
    });
    await expect(activate(context)).rejects.toThrow(MissingTokenException);
    expect(headers['www-authenticate']).toBe('Bearer realm="https://api.example.com"');
  });

  it('answers 503 with Retry-After, never 500 or a pass, when no voxkey-jwt strategy is registered (as for a request still in flight once the application has closed)', async () => {
    const { context, headers } = contextFor('http', Handlers, Handlers.prototype.open, {
      headers: { authorization: 'Bearer a.b.c' },
    });
    await expect(activate(context)).rejects.toMatchObject({ status: 503 });
    expect(headers['retry-after']).toBe('1');
  });

  it('answers 400 for two Authorization fields', async () => {
    const request = {
      headers: { authorization: 'Bearer a.b.c' },
      rawHeaders: ['Authorization', 'Bearer a.b.c', 'authorization', 'Bearer d.e.f'],
    };
    const { context, headers } = contextFor('http', Handlers, Handlers.prototype.open, request);
    await expect(activate(context)).rejects.toMatchObject({ status: 400 });
    expect(headers['www-authenticate']).toContain('error="invalid_request"');
  });

  it('reads Fastify raw headers too', async () => {
    const request = {
      headers: { authorization: 'Bearer a.b.c' },
      raw: { rawHeaders: ['Authorization', 'x', 'Authorization', 'y'] },
    };
    await expect(
      activate(contextFor('http', Handlers, Handlers.prototype.open, request).context),
    ).rejects.toMatchObject({ status: 400 });
  });

  describe('@OptionalAuth()', () => {
    const TOO_LARGE = `Bearer ${'a'.repeat(9000)}`;
    const http = (handler: () => void, request: Record<string, unknown>) =>
      contextFor('http', Handlers, handler, request);

    it.each([
      ['no header', {}],
      ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
    ])('%s: passes with no user, even one set before the guard', async (_name, headers) => {
      const request = { headers, user: { sub: 'set-by-a-middleware' } };
      const { context, headers: sent } = http(Handlers.prototype.optional, request);
      await expect(activate(context)).resolves.toBe(true);
      expect(request.user).toBeUndefined();
      expect(sent).toEqual({});
    });

    it.each([Handlers.prototype.optional, Handlers.prototype.lenient])(
      'malformed credentials stay a 400 (%p)',
      async (handler) => {
        const request = { headers: { authorization: 'Bearer a.b.c junk' } };
        await expect(activate(http(handler, request).context)).rejects.toMatchObject({
          status: 400,
        });
      },
    );

    it('strict: a token that fails a check is a 401 invalid_token, as on a protected route', async () => {
      const { context, headers } = http(Handlers.prototype.optional, {
        headers: { authorization: TOO_LARGE },
      });
      await expect(activate(context)).rejects.toMatchObject({ status: 401 });
      expect(headers['www-authenticate']).toContain('error="invalid_token"');
    });

    it('strict: a token that cannot be checked is a 503, as on a protected route', async () => {
      const { context } = http(Handlers.prototype.optional, {
        headers: { authorization: 'Bearer a.b.c' },
      });
      await expect(activate(context)).rejects.toMatchObject({ status: 503 });
    });

    it('lenient: a token that fails a check passes with no user, and the challenge on the response', async () => {
      const request = { headers: { authorization: TOO_LARGE }, user: { sub: 'stale' } };
      const { context, headers } = http(Handlers.prototype.lenient, request);
      await expect(activate(context)).resolves.toBe(true);
      expect(request.user).toBeUndefined();
      expect(headers['www-authenticate']).toBe(
        'Bearer realm="https://api.example.com", error="invalid_token", error_description="The access token is too large"',
      );
    });

    it('lenient: a token that cannot be checked passes with no user, and no header (the token may be fine)', async () => {
      const request = { headers: { authorization: 'Bearer a.b.c' } };
      const { context, headers } = http(Handlers.prototype.lenient, request);
      await expect(activate(context)).resolves.toBe(true);
      expect(headers).toEqual({});
    });

    it('lenient on a socket: nothing the socket kept survives a refused token', async () => {
      const client = { handshake: { auth: { token: TOO_LARGE.slice(7) }, headers: {} } };
      rememberUser(client, { sub: 'alice' }, 'aaa.bbb.ccc');
      const { context } = contextFor('ws', Handlers, Handlers.prototype.lenient);
      const ws = {
        ...context,
        switchToWs: () => ({ getClient: () => client, getData: () => ({}) }),
      };
      await expect(activate(ws as unknown as ExecutionContext)).resolves.toBe(true);
      expect([userOf(client), tokenOf(client)]).toEqual([undefined, undefined]);
    });

    it.each(['graphql', 'ws', 'rpc'])('passes a %s call without a token', async (type) => {
      const { context } = contextFor(type, Handlers, Handlers.prototype.optional);
      await expect(activate(context)).resolves.toBe(true);
    });
  });

  it('handleRequest never lets a failure through', () => {
    const { context } = contextFor('http', Handlers, Handlers.prototype.open);
    expect(() => guard.handleRequest(null, false, undefined, context)).toThrow(
      expect.objectContaining({ status: 401 }),
    );
    expect(() =>
      guard.handleRequest(new TypeError('boom'), { sub: 'x' }, undefined, context),
    ).toThrow(expect.objectContaining({ status: 401 }));
    expect(guard.handleRequest(null, { sub: 'x' }, undefined, context)).toEqual({ sub: 'x' });
  });
});
