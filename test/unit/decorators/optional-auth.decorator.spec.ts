import { OptionalAuth, Public, VoxKeyConfigError } from '../../../lib/index';
import { AUTH_MODE_METADATA } from '../../../lib/voxkey.constants';

const modeOf = (target: object): unknown => Reflect.getMetadata(AUTH_MODE_METADATA, target);

describe('@OptionalAuth() and @Public()', () => {
  it('store one authentication mode, strict by default', () => {
    class Handlers {
      @OptionalAuth() strict() {}
      @OptionalAuth({ invalidToken: 'anonymous' }) lenient() {}
      @OptionalAuth({ invalidToken: 'reject' }) explicit() {}
      @Public() open() {}
    }
    expect(modeOf(Handlers.prototype.strict)).toEqual({ mode: 'optional', invalidToken: 'reject' });
    expect(modeOf(Handlers.prototype.lenient)).toEqual({
      mode: 'optional',
      invalidToken: 'anonymous',
    });
    expect(modeOf(Handlers.prototype.explicit)).toEqual(modeOf(Handlers.prototype.strict));
    expect(modeOf(Handlers.prototype.open)).toEqual({ mode: 'public' });
  });

  it('apply to a whole class', () => {
    @OptionalAuth()
    class Optional {}
    expect(modeOf(Optional)).toEqual({ mode: 'optional', invalidToken: 'reject' });
  });

  it('refuse an unknown invalidToken value when the decorator is called', () => {
    expect(() => OptionalAuth({ invalidToken: 'allow' as 'anonymous' })).toThrow(
      new VoxKeyConfigError(
        `@OptionalAuth(): 'invalidToken' must be 'reject' or 'anonymous', not "allow"`,
      ),
    );
  });

  it('two modes on one handler throw when the class is defined, naming Class.method', () => {
    expect(() => {
      class Feed {
        @Public() @OptionalAuth() list() {}
      }
      return Feed;
    }).toThrow(/Feed\.list declares two authentication modes/);
    expect(() => {
      class Feed {
        @OptionalAuth() @OptionalAuth({ invalidToken: 'anonymous' }) list() {}
      }
      return Feed;
    }).toThrow(VoxKeyConfigError);
  });

  it('two modes on one class throw too, naming the class', () => {
    expect(() => {
      @OptionalAuth()
      @Public()
      class Status {}
      return Status;
    }).toThrow(/^VoxKeyModule: Status declares two authentication modes/);
  });

  it('the same mode twice is one mode; a subclass may declare its own', () => {
    class Handlers {
      @Public() @Public() open() {}
    }
    @Public()
    class Parent {}
    @OptionalAuth()
    class Child extends Parent {}
    expect(modeOf(Handlers.prototype.open)).toEqual({ mode: 'public' });
    expect(modeOf(Child)).toEqual({ mode: 'optional', invalidToken: 'reject' });
    expect(modeOf(Parent)).toEqual({ mode: 'public' });
  });
});
