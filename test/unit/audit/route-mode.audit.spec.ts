import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { RouteModeAudit } from '../../../lib/audit/route-mode.audit';
import {
  AnyScope,
  OptionalAuth,
  Public,
  RequireActiveToken,
  Scopes,
  VoxKeyConfigError,
} from '../../../lib/index';

class FeedController {
  @OptionalAuth() @Scopes('read:posts') scoped() {}
  @Public() @AnyScope('a', 'b') anyScope() {}
  @OptionalAuth({ invalidToken: 'anonymous' }) @RequireActiveToken() active() {}
  @OptionalAuth() fine() {}
  @Scopes('x') required() {}
}

/** A controller's mode meets the handler's requirements. */
@Public()
class PublicController {
  @Scopes('x') scoped() {}
  plain() {}
}

/** A controller's mode and its own requirements, on every handler. */
@OptionalAuth()
@RequireActiveToken()
class ActiveController {
  list() {}
}

/** A handler's own mode overrides its controller's requirements, as `@Public()` always did. */
@Scopes('admin')
@RequireActiveToken()
class AdminController {
  @Public() health() {}
  @OptionalAuth() preview() {}
  @Scopes('write') write() {}
}

function audit(...classes: (new () => object)[]): RouteModeAudit {
  const wrappers = classes.map((cls) => ({ instance: new cls(), metatype: cls }));
  const discovery = {
    getControllers: () => wrappers,
    getProviders: () => [{ instance: undefined, metatype: undefined }, ...wrappers],
  } as unknown as DiscoveryService;
  return new RouteModeAudit(discovery, new MetadataScanner(), new Reflector());
}

describe('RouteModeAudit', () => {
  it('names each handler whose mode meets a requirement, once', () => {
    expect(audit(FeedController).findings()).toEqual([
      'FeedController.scoped (@OptionalAuth() with @Scopes())',
      'FeedController.anyScope (@Public() with @AnyScope())',
      'FeedController.active (@OptionalAuth() with @RequireActiveToken())',
    ]);
  });

  it("a controller's mode meets its handlers' requirements and its own", () => {
    expect(audit(PublicController, ActiveController).findings()).toEqual([
      'PublicController.scoped (@Public() with @Scopes())',
      'ActiveController.list (@OptionalAuth() with @RequireActiveToken())',
    ]);
  });

  it("a handler's own mode overrides its controller's requirements", () => {
    expect(audit(AdminController).findings()).toEqual([]);
  });

  it('stops the application at start-up with the findings', () => {
    expect(() => audit(FeedController).onModuleInit()).toThrow(VoxKeyConfigError);
    expect(() => audit(FeedController).onModuleInit()).toThrow(
      /FeedController\.scoped \(@OptionalAuth\(\) with @Scopes\(\)\)/,
    );
    expect(() => audit(AdminController).onModuleInit()).not.toThrow();
  });
});
