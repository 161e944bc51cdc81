import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { RouteModeAudit } from '../../../lib/audit/route-mode.audit';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';
import {
  AnyScope,
  OptionalAuth,
  Public,
  Realm,
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

const SINGLE = resolveVoxKeyOptions({
  domain: 'https://id.example.com',
  realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a',
  audience: 'https://api.example.com',
});

/** Realm bindings: 'acme' is configured below, 'acne' is a typo. */
@Realm('acme')
class TenantController {
  @Realm('acne') typo() {}
  @Realm('acme') right() {}
}

function audit(...classes: (new () => object)[]): RouteModeAudit {
  return auditWith(SINGLE, ...classes);
}

function auditWith(
  options: ReturnType<typeof resolveVoxKeyOptions>,
  ...classes: (new () => object)[]
): RouteModeAudit {
  const wrappers = classes.map((cls) => ({ instance: new cls(), metatype: cls }));
  const discovery = {
    getControllers: () => wrappers,
    getProviders: () => [{ instance: undefined, metatype: undefined }, ...wrappers],
  } as unknown as DiscoveryService;
  return new RouteModeAudit(discovery, new MetadataScanner(), new Reflector(), options);
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

  describe('@Realm() ids', () => {
    const realms = (extra: object = {}) =>
      resolveVoxKeyOptions({
        domain: 'https://id.example.com',
        audience: 'https://api.example.com',
        realms: [
          { id: 'acme', realm: '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a' },
          { id: 'globex', realm: '9b2e4c1d-1f3a-4e5b-8c7d-0a1b2c3d4e5f' },
        ],
        ...extra,
      });

    it('an id no configured realm has stops the application, naming the handler', () => {
      const check = auditWith(realms(), TenantController);
      expect(check.unknownRealms()).toEqual(["TenantController.typo ('acne')"]);
      expect(() => check.onModuleInit()).toThrow(VoxKeyConfigError);
      expect(() => check.onModuleInit()).toThrow(/TenantController\.typo \('acne'\)/);
    });

    it('with the single-realm options every @Realm() id but default is unknown', () => {
      expect(auditWith(SINGLE, TenantController).unknownRealms()).toEqual([
        "TenantController.typo ('acne')",
        "TenantController ('acme')",
        "TenantController.right ('acme')",
      ]);
    });

    it('with realmsProvider, ids may come later: nothing is reported', () => {
      const provided = realms({ realmsProvider: () => undefined });
      expect(auditWith(provided, TenantController).unknownRealms()).toEqual([]);
    });
  });
});
