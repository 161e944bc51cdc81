import { Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  AnyScope,
  InsufficientScopeException,
  MissingTokenException,
  Public,
  Scopes,
  ScopesGuard,
  UnsupportedContextException,
} from '../../../lib/index';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';
import { type ContextType, contextFor } from '../../support/execution-context';

const options = resolveVoxKeyOptions({
  domain: 'https://your-domain.com',
  realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
  audience: 'https://api.example.com',
});

class Handlers {
  open() {}
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

beforeAll(() => Logger.overrideLogger(false));

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
