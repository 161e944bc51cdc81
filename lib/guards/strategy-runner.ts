import { VoxKeyConfigError } from '../errors/voxkey.error.js';
import { registeredStrategy } from '../strategies/passport-registry.js';

/** What a Passport strategy reports, in the shape of `AuthGuard.handleRequest`'s arguments. */
export type StrategyOutcome = (
  error: unknown,
  user: unknown,
  info: unknown,
  status?: number,
) => unknown;

interface PassportStrategyLike {
  authenticate(this: PassportAction, request: object, options?: object): void;
}

interface PassportAction extends PassportStrategyLike {
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
  error(error: unknown): void;
  pass(): void;
  redirect(url: string, status?: number): void;
}

/**
 * Runs the Passport strategy registered as `name` for one request, the way
 * `passport.authenticate(name, callback)` does for a single strategy (a per-request instance
 * whose action functions report back), without the middleware around it: no `req.login`
 * augmentation, no strategy chain, no per-request closure over the whole middleware. The
 * outcome goes to `report` exactly once, with Passport's callback arguments. `pass()` and
 * `redirect()` mean nothing for a bearer token and are reported as failures (fail closed).
 */
export function runStrategy(
  name: string,
  request: object,
  report: StrategyOutcome,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error: unknown, user: unknown, info?: unknown, status?: number): void => {
      if (settled) return;
      settled = true;
      try {
        resolve(report(error, user, info, status));
      } catch (failure) {
        reject(failure);
      }
    };
    const strategy = registeredStrategy(name) as PassportStrategyLike | undefined;
    if (strategy === undefined) {
      // A request still in flight while the application closes: an error of ours (a 503 at the
      // guard), reported like any other outcome.
      const failure = new VoxKeyConfigError(
        `the '${name}' Passport strategy is not registered (is the application closing?)`,
      );
      return settle(failure, false);
    }
    const action = Object.create(strategy) as PassportAction;
    action.success = (user, info) => settle(null, user, info);
    action.fail = (challenge, status) =>
      typeof challenge === 'number'
        ? settle(null, false, undefined, challenge)
        : settle(null, false, challenge, status);
    action.error = (error) => settle(error, false);
    action.pass = () => settle(null, false);
    action.redirect = () => settle(null, false);
    try {
      action.authenticate(request, {});
    } catch (error) {
      settle(error, false);
    }
  });
}
