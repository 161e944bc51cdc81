import { Scopes } from '../../../lib/decorators/scopes.decorator';

describe('@Scopes()', () => {
  it('refuses bad scopes when the class is defined', () => {
    expect(() => Scopes()).toThrow('@Scopes() needs at least one scope');
    expect(() => Scopes('read posts')).toThrow(/@Scopes\(\): "read posts" is not a scope token/);
  });
});
