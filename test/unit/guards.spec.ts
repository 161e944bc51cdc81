import { type ExecutionContext, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  AnyScope,
  InsufficientScopeException,
  MissingTokenException,
  Public,
  Scopes,
  ScopesGuard,
  UnsupportedContextException,
  VoxKeyAuthGuard,
} from '../../lib/index';
import type { JwksKeyStore } from '../../lib/jwt/jwks-key.store';
import { VerifiedTokenCache } from '../../lib/jwt/verified-token.cache';
import type { IntrospectionService } from '../../lib/services/introspection.service';
import { RevocationList } from '../../lib/services/revocation-list';
import { SharedState } from '../../lib/store/shared-state';
import { resolveVoxKeyOptions } from '../../lib/voxkey-options.provider';

const options = resolveVoxKeyOptions({
  domain: 'https://your-domain.com',
  realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
  audience: 'https://api.example.com',
});

class Handlers {
  open() {}
  @Public() publicRoute() {}
  @Scopes('read:posts') scoped() {}
  @AnyScope('a', 'b') anyScope() {}
}
@Scopes('admin')
class AdminHandlers {
  @Scopes('write') write() {}
}
@Public()
class PublicHandlers {
  any() {}
}

type ContextType = 'http' | 'graphql' | 'ws' | 'rpc';

/** A fake execution context of the given type; only what the guards read. */
function contextFor(
  type: ContextType,
  cls: object,
  handler: () => void,
  request: Record<string, unknown> = {},
) {
  const headers: Record<string, string> = {};
  const response = {
    header: (name: string, value: string) => (headers[name.toLowerCase()] = value),
  };
  const context = {
    getType: () => type,
    getClass: () => cls,
    getHandler: () => handler,
    getArgs: () => [request, response],
    getArgByIndex: (i: number) => [request, response][i],
    switchToHttp: () => ({
      getRequest: () => request,
      getResponse: () => response,
      getNext: () => undefined,
    }),
    switchToRpc: () => ({ getData: () => undefined, getContext: () => undefined }),
    switchToWs: () => ({
      getData: () => undefined,
      getClient: () => undefined,
      getPattern: () => '',
    }),
  } as unknown as ExecutionContext;
  return { context, headers };
}

beforeAll(() => Logger.overrideLogger(false));

describe('VoxKeyAuthGuard', () => {
  const keyStore = { retryAfterSeconds: 1, isCurrent: () => true } as unknown as JwksKeyStore;
  const revocationList = new RevocationList(options, new SharedState(options));
  const guard = new VoxKeyAuthGuard(
    new Reflector(),
    options,
    keyStore,
    revocationList,
    {} as IntrospectionService,
    new VerifiedTokenCache(options, keyStore),
  );
  /** Sync or async, the guard's verdict as a promise. */
  const activate = (context: ExecutionContext) =>
    Promise.resolve().then(() => guard.canActivate(context));

  it.each<ContextType>(['graphql', 'ws', 'rpc'])(
    'denies the %s context with a clear error',
    async (type) => {
      const { context } = contextFor(type, Handlers, Handlers.prototype.open);
      await expect(activate(context)).rejects.toThrow(UnsupportedContextException);
      await expect(activate(context)).rejects.toThrow(
        `does not support the '${type}' execution context yet`,
      );
    },
  );

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

  it('answers 503 with Retry-After, never 500 or a pass, when no voxkey-jwt strategy is registered (a request in flight at shutdown)', async () => {
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

describe('ScopesGuard', () => {
  const guard = new ScopesGuard(new Reflector(), options);
  const run = (cls: object, handler: () => void, user?: unknown, type: ContextType = 'http') => {
    const { context, headers } = contextFor(type, cls, handler, { user });
    try {
      return { result: guard.canActivate(context), headers };
    } catch (error) {
      return { error, headers };
    }
  };

  it('allows routes without scope requirements', () => {
    expect(run(Handlers, Handlers.prototype.open, { scope: '' }).result).toBe(true);
  });
  it('checks every @Scopes scope, controller and handler together', () => {
    expect(run(AdminHandlers, AdminHandlers.prototype.write, { scope: 'admin write' }).result).toBe(
      true,
    );
    const { error, headers } = run(AdminHandlers, AdminHandlers.prototype.write, {
      scope: 'write',
    });
    expect(error).toBeInstanceOf(InsufficientScopeException);
    expect(headers['www-authenticate']).toContain('scope="admin write"');
  });
  it('checks @AnyScope', () => {
    expect(run(Handlers, Handlers.prototype.anyScope, { scope: 'b' }).result).toBe(true);
    expect(run(Handlers, Handlers.prototype.anyScope, { scope: 'c' }).error).toBeInstanceOf(
      InsufficientScopeException,
    );
  });
  it('refuses a scoped route when no user was authenticated (guard order mistake)', () => {
    const { error } = run(Handlers, Handlers.prototype.scoped, undefined);
    expect(error).toBeInstanceOf(MissingTokenException);
  });
  it.each<ContextType>(['graphql', 'ws', 'rpc'])(
    'denies scoped routes in the %s context',
    (type) => {
      expect(
        run(Handlers, Handlers.prototype.scoped, { scope: 'read:posts' }, type).error,
      ).toBeInstanceOf(UnsupportedContextException);
    },
  );
  it('skips @Public() routes', () => {
    expect(run(PublicHandlers, PublicHandlers.prototype.any, undefined, 'ws').result).toBe(true);
  });
});
