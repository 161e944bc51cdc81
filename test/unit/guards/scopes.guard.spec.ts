import { Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  AnyScope,
  InsufficientScopeException,
  MissingTokenException,
  OptionalAuth,
  Public,
  Scopes,
  ScopesGuard,
  UnsupportedContextException,
} from '../../../lib/index';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';
import { type ContextType, contextFor } from '../../support/execution-context';

const moduleOptions = {
  domain: 'https://your-domain.com',
  realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
  audience: 'https://api.example.com',
};
const options = resolveVoxKeyOptions(moduleOptions);

class Handlers {
  open() {}
  @Scopes('read:posts') scoped() {}
  @AnyScope('a', 'b') anyScope() {}
}
@Scopes('admin')
class AdminHandlers {
  @Scopes('write') write() {}
  /** A handler's mode overrides the controller's scopes. */
  @OptionalAuth() preview() {}
}
@Public()
class PublicHandlers {
  any() {}
}

beforeAll(() => Logger.overrideLogger(false));

describe('ScopesGuard', () => {
  const guard = new ScopesGuard(new Reflector(), options);
  /** A pass is synchronous (`true`); a refusal is a rejected promise, in the context's form. */
  const run = async (
    cls: object,
    handler: () => void,
    user?: unknown,
    type: ContextType = 'http',
    scopes: ScopesGuard = guard,
  ) => {
    const { context, headers } = contextFor(type, cls, handler, { user });
    const outcome = scopes.canActivate(context);
    try {
      return { result: outcome === true ? true : await outcome, headers };
    } catch (error) {
      return { error, headers };
    }
  };

  it('allows routes without scope requirements, synchronously', () => {
    const { context } = contextFor('http', Handlers, Handlers.prototype.open, { user: {} });
    expect(guard.canActivate(context)).toBe(true);
  });
  it('checks every @Scopes scope, controller and handler together', async () => {
    const write = AdminHandlers.prototype.write;
    expect((await run(AdminHandlers, write, { scope: 'admin write' })).result).toBe(true);
    const { error, headers } = await run(AdminHandlers, write, { scope: 'write' });
    expect(error).toBeInstanceOf(InsufficientScopeException);
    expect(headers['www-authenticate']).toContain('scope="admin write"');
  });
  it('checks @AnyScope', async () => {
    expect((await run(Handlers, Handlers.prototype.anyScope, { scope: 'b' })).result).toBe(true);
    expect((await run(Handlers, Handlers.prototype.anyScope, { scope: 'c' })).error).toBeInstanceOf(
      InsufficientScopeException,
    );
  });
  it('refuses a scoped route when no user was authenticated (guard order mistake)', async () => {
    const { error } = await run(Handlers, Handlers.prototype.scoped, undefined);
    expect(error).toBeInstanceOf(MissingTokenException);
  });
  it('denies scoped handlers of a context type NestJS does not have', async () => {
    const { error } = await run(
      Handlers,
      Handlers.prototype.scoped,
      { scope: 'read:posts' },
      'custom',
    );
    expect(error).toBeInstanceOf(UnsupportedContextException);
  });
  it("denies scoped handlers of a context the options turn off, in that context's form", async () => {
    const off = new ScopesGuard(
      new Reflector(),
      resolveVoxKeyOptions({ ...moduleOptions, contexts: { graphql: false } }),
    );
    const { error } = await run(Handlers, Handlers.prototype.scoped, {}, 'graphql', off);
    expect(error).toMatchObject({ extensions: { code: 'FORBIDDEN', statusCode: 403 } });
  });
  it("demands no scopes on an @OptionalAuth() route, with or without a user, whatever the controller's", async () => {
    const preview = AdminHandlers.prototype.preview;
    expect((await run(AdminHandlers, preview, undefined)).result).toBe(true);
    expect((await run(AdminHandlers, preview, { scope: 'other' }, 'graphql')).result).toBe(true);
  });
  it('skips @Public() routes', async () => {
    expect((await run(PublicHandlers, PublicHandlers.prototype.any, undefined, 'ws')).result).toBe(
      true,
    );
  });
});
