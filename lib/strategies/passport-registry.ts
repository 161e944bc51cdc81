import passport from 'passport';

/**
 * The strategy Passport holds under `name`, if any. Passport has no public lookup; `_strategy`
 * is what `passport.authenticate` itself uses. Kept in this one place.
 */
export function registeredStrategy(name: string): unknown {
  return (passport as unknown as { _strategy(name: string): unknown })._strategy(name);
}
