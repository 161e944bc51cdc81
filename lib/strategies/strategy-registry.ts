import passport from 'passport';
import { VoxKeyConfigError, VoxKeyError, VoxKeyTokenError } from '../errors/voxkey.errors.js';
import { VOXKEY_INTROSPECTION_STRATEGY, VOXKEY_STRATEGY } from '../voxkey.constants.js';

/**
 * The VoxKey strategy holding each name in Passport's registry, which is process-wide: kept on
 * `globalThis` under a `Symbol.for` key, so the CommonJS and ESM builds, if both are loaded,
 * share it as they share Passport.
 */
const owners: Map<string, object> = ((globalThis as { [key: symbol]: Map<string, object> })[
  Symbol.for('voxkey:passport-strategy-owners')
] ??= new Map());

/**
 * Refuses a second VoxKey module in this process while another one holds the strategy names:
 * `AuthGuard('voxkey-jwt')` finds a strategy by name, so the second module's realm and audience
 * would silently replace the first one's.
 */
export function assertStrategyNamesFree(): void {
  for (const name of [VOXKEY_STRATEGY, VOXKEY_INTROSPECTION_STRATEGY]) {
    if (owners.has(name)) {
      throw new VoxKeyConfigError(
        `a '${name}' Passport strategy is already registered in this process. ` +
          'Import VoxKeyModule.forRoot() once, and close one application before starting another.',
      );
    }
  }
}

/** Registers `strategy` with Passport under `name`, once the application starts. */
export function registerStrategy(name: string, strategy: passport.Strategy): void {
  // NestJS 12's microservice `init()` runs onModuleInit twice: the owner registering again is a no-op.
  if (owners.get(name) === strategy) return;
  assertStrategyNamesFree();
  owners.set(name, strategy);
  passport.use(name, strategy);
}

/** Frees `name` if `strategy` holds it, so another application in this process may register. */
export function unregisterStrategy(name: string, strategy: object): void {
  if (owners.get(name) !== strategy) return;
  owners.delete(name);
  passport.unuse(name);
}

/** A strategy's per-request actions, as Passport gives them. */
interface StrategyActions {
  fail(challenge: unknown, status: number): void;
  error(error: Error): void;
}

/**
 * Reports a failed check the way both VoxKey strategies do: a refused token is a 401 failure; a
 * dependency that could not answer (key set, introspection endpoint) a 503 failure, so the token
 * is not called bad and the stock `AuthGuard` answers 401 rather than a 500; anything else a
 * Passport error.
 */
export function reportFailure(strategy: StrategyActions, failure: unknown): void {
  if (failure instanceof VoxKeyTokenError) strategy.fail(failure, 401);
  else if (failure instanceof VoxKeyError) strategy.fail(failure, 503);
  else strategy.error(failure instanceof Error ? failure : new Error('token check failed'));
}

/** What `VoxKeyAuthGuard` tells the strategies through Passport's options. */
export interface BindingCheckOptions {
  /** The caller checks a `cnf` binding against the request itself (the guard does, always). */
  readonly bindingChecked?: boolean;
}

/**
 * A sender-constrained token (`cnf`) is refused unless the caller checks its binding: used
 * through plain Passport (`AuthGuard('voxkey-jwt')`), it would otherwise pass as a bearer token.
 * @see RFC 9449 §7.2, RFC 8705 §3
 */
export function assertBindingChecked(cnf: unknown, options: BindingCheckOptions | undefined): void {
  if (cnf !== undefined && options?.bindingChecked !== true) {
    throw new VoxKeyTokenError(
      'binding',
      'a sender-constrained token (cnf) where nothing checks its binding (use VoxKeyAuthGuard)',
    );
  }
}
