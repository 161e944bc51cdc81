import { Reflector } from '@nestjs/core';
import { AnyScope, OptionalAuth, Public, RequireActiveToken, Scopes } from '../../../lib/index';
import { RouteMetadataCache } from '../../../lib/utils/route-metadata.util';
import { contextFor } from '../../support/execution-context';

class Required {
  plain() {}
  @Public() open() {}
  @OptionalAuth() optional() {}
  @OptionalAuth({ invalidToken: 'anonymous' }) lenient() {}
}

@Public()
class PublicController {
  plain() {}
  @OptionalAuth() optional() {}
}

@OptionalAuth({ invalidToken: 'anonymous' })
class OptionalController {
  plain() {}
  @Public() open() {}
}

@Scopes('admin')
@AnyScope('a', 'b')
@RequireActiveToken()
class ScopedController {
  @Scopes('write') write() {}
}

describe('RouteMetadataCache', () => {
  const routes = new RouteMetadataCache(new Reflector());
  const read = (cls: object, handler: () => void) =>
    routes.get(contextFor('http', cls, handler).context);

  it.each([
    ['no decorator', Required, Required.prototype.plain, 'required', false],
    ['@Public()', Required, Required.prototype.open, 'public', false],
    ['@OptionalAuth()', Required, Required.prototype.optional, 'optional', false],
    ['lenient @OptionalAuth()', Required, Required.prototype.lenient, 'optional', true],
    ['a @Public() controller', PublicController, PublicController.prototype.plain, 'public', false],
    [
      'a lenient @OptionalAuth() controller',
      OptionalController,
      OptionalController.prototype.plain,
      'optional',
      true,
    ],
  ])('%s: mode %s', (_name, cls, handler, mode, anonymousOnInvalid) => {
    expect(read(cls, handler)).toMatchObject({ mode, anonymousOnInvalid });
  });

  it("the handler's mode wins over the controller's, both ways", () => {
    expect(read(PublicController, PublicController.prototype.optional)).toMatchObject({
      mode: 'optional',
      anonymousOnInvalid: false,
    });
    expect(read(OptionalController, OptionalController.prototype.open)).toMatchObject({
      mode: 'public',
      anonymousOnInvalid: false,
    });
  });

  it('adds up scope requirements of the controller and the handler', () => {
    expect(read(ScopedController, ScopedController.prototype.write)).toEqual({
      mode: 'required',
      anonymousOnInvalid: false,
      requireActive: true,
      scopes: { all: ['admin', 'write'], anyOf: [['a', 'b']] },
    });
  });

  it('reads a route once', () => {
    const first = read(Required, Required.prototype.optional);
    expect(read(Required, Required.prototype.optional)).toBe(first);
  });
});
