import passport, { Strategy } from 'passport';
import { VoxKeyConfigError } from '../../lib/errors/voxkey.error';
import { runStrategy } from '../../lib/guards/strategy-runner';

/** The action functions Passport (and the runner) give a strategy instance per request. */
interface Action {
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
  error(error: unknown): void;
  pass(): void;
  redirect(url: string): void;
}
type Act = (this: Action, request: object) => void;

/** Registers a throwaway strategy whose authenticate does `act`; returns its name. */
function register(act: Act): string {
  const name = `test-runner-${Math.random().toString(36).slice(2)}`;
  class TestStrategy extends Strategy {
    override authenticate(request: object): void {
      act.call(this as unknown as Action, request);
    }
  }
  passport.use(name, new TestStrategy());
  names.push(name);
  return name;
}
const names: string[] = [];
afterAll(() => names.forEach((name) => passport.unuse(name)));

/** Runs the strategy and records every report, in Passport's callback arguments. */
async function run(act: Act) {
  const reports: unknown[][] = [];
  const result = await runStrategy(register(act), { headers: {} }, (...args) => {
    reports.push(args);
    return args[1] ? 'user-accepted' : 'rejected';
  });
  return { reports, result };
}

describe('runStrategy (the guard runs the registered strategy without Passport middleware)', () => {
  it('success reports (null, user, info) and resolves with what the callback returns', async () => {
    const { reports, result } = await run(function () {
      this.success({ sub: 'a' }, { scope: 'x' });
    });
    expect(reports).toEqual([[null, { sub: 'a' }, { scope: 'x' }, undefined]]);
    expect(result).toBe('user-accepted');
  });

  it('fail(challenge, status) reports (null, false, challenge, status), as passport.authenticate does', async () => {
    const challenge = new Error('bad token');
    const { reports } = await run(function () {
      this.fail(challenge, 401);
    });
    expect(reports).toEqual([[null, false, challenge, 401]]);
  });

  it('fail(status) alone is a status, not a challenge', async () => {
    const { reports } = await run(function () {
      this.fail(403);
    });
    expect(reports).toEqual([[null, false, undefined, 403]]);
  });

  it('error(err) reports the error', async () => {
    const failure = new Error('broken');
    const { reports } = await run(function () {
      this.error(failure);
    });
    expect(reports).toEqual([[failure, false, undefined, undefined]]);
  });

  it('an exception thrown by authenticate is reported as an error, not lost', async () => {
    const failure = new Error('thrown');
    const { reports } = await run(() => {
      throw failure;
    });
    expect(reports).toEqual([[failure, false, undefined, undefined]]);
  });

  it.each([
    [
      'pass()',
      function (this: Action) {
        this.pass();
      },
    ],
    [
      'redirect()',
      function (this: Action) {
        this.redirect('https://elsewhere.example');
      },
    ],
  ])(
    '%s means nothing for a bearer token and is reported as a failure (fail closed)',
    async (_name, act) => {
      const { reports, result } = await run(act as Act);
      expect(reports).toEqual([[null, false, undefined, undefined]]);
      expect(result).toBe('rejected');
    },
  );

  it('a strategy that answers twice is reported once (the first answer counts)', async () => {
    const { reports } = await run(function () {
      this.fail(new Error('first'), 401);
      this.success({ sub: 'late' });
    });
    expect(reports).toHaveLength(1);
    expect(reports[0][1]).toBe(false);
  });

  it('an asynchronous answer is awaited', async () => {
    const { reports, result } = await run(function () {
      setTimeout(() => this.success({ sub: 'later' }), 5);
    });
    expect(reports).toEqual([[null, { sub: 'later' }, undefined, undefined]]);
    expect(result).toBe('user-accepted');
  });

  it('the callback throwing (handleRequest refusing) rejects the promise with that exception', async () => {
    const refusal = new Error('refused by handleRequest');
    const name = register(function () {
      this.success({ sub: 'a' });
    });
    await expect(
      runStrategy(name, {}, () => {
        throw refusal;
      }),
    ).rejects.toBe(refusal);
  });

  it('each run gets its own action object: the registered strategy is not modified', async () => {
    const seen: object[] = [];
    const name = register(function () {
      seen.push(this);
      this.success({ sub: 'a' });
    });
    const registered = (passport as unknown as { _strategy(n: string): object })._strategy(name);
    await runStrategy(name, {}, () => true);
    await runStrategy(name, {}, () => true);
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(registered);
    expect(seen[0]).not.toBe(seen[1]);
    expect(Object.getPrototypeOf(seen[0])).toBe(registered);
    expect(Object.prototype.hasOwnProperty.call(registered, 'success')).toBe(false);
  });

  it('an unregistered strategy (a request in flight at shutdown) is reported as a configuration error, so the guard answers 503', async () => {
    const reports: unknown[][] = [];
    const result = await runStrategy('no-such-strategy', {}, (...args) => {
      reports.push(args);
      return 'reported';
    });
    expect(result).toBe('reported');
    expect(reports).toHaveLength(1);
    expect(reports[0][0]).toBeInstanceOf(VoxKeyConfigError);
    expect(reports[0][1]).toBe(false);
  });
});
