import { AnyScope } from '../../../lib/decorators/any-scope.decorator';

describe('@AnyScope()', () => {
  it('refuses bad scopes when the class is defined', () => {
    expect(() => AnyScope('ok', 'bad"quote')).toThrow(/@AnyScope\(\)/);
  });
});
