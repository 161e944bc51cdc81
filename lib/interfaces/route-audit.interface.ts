/** The kind of handler a route is: an HTTP route, a GraphQL field, a gateway message, a microservice pattern. */
export type VoxKeyRouteContext = 'http' | 'graphql' | 'ws' | 'rpc';

/**
 * What the guards do with a call to a route, as the start-up audit reads the decorators, the
 * guards that reach the handler and the `contexts` option:
 * - `public`: `@Public()`, no token read;
 * - `optional`: `@OptionalAuth()`, a call without a token goes on without a user;
 * - `scoped`: a valid token with the scopes of `scopes` and `anyOf`;
 * - `any-token`: any valid token of an accepted realm;
 * - `unguarded`: no `VoxKeyAuthGuard` reaches the handler, so nothing checks the call;
 * - `denied`: every call is refused, its context being turned off in `contexts`;
 * - `via-parent`: a GraphQL field resolver that guards do not run on (no `'guards'` in
 *   `fieldResolverEnhancers`), served to whoever may read the field's parent.
 */
export type VoxKeyRouteAccess =
  'public' | 'optional' | 'scoped' | 'any-token' | 'unguarded' | 'denied' | 'via-parent';

/** One route of the application and the decision the guards make on it. */
export interface VoxKeyRoute {
  /** `Class.method`. */
  readonly handler: string;
  readonly context: VoxKeyRouteContext;
  /**
   * `GET /posts/:id` (the path template of `@Controller()` and the method decorator, without a
   * global prefix, `RouterModule` path or URI version), `Query.posts`, `Post.author` (a field
   * resolver), `message chat.say` (a gateway), `message orders.list` or `event orders.created`
   * (a microservice pattern; other than strings, as JSON).
   */
  readonly route: string;
  readonly access: VoxKeyRouteAccess;
  /** Every scope of `@Scopes()`, the class's and the handler's; empty without. */
  readonly scopes: readonly string[];
  /** Each `@AnyScope()` list, one scope of each required; empty without. */
  readonly anyOf: readonly (readonly string[])[];
  /** `@RequireActiveToken()`. */
  readonly requireActive: boolean;
  /** `@Realm()` (the ids) or `@RealmFromParam()` (the parameter); absent without. */
  readonly realm?: { readonly ids: readonly string[] } | { readonly param: string };
  /** `@Resource()`; absent without. */
  readonly resource?: string;
  /** HTTP: `@Version()` or the controller's `version` (`'neutral'` for `VERSION_NEUTRAL`); absent without. */
  readonly version?: string | readonly string[];
}

/**
 * What a finding of the start-up audit is about:
 * - `unguarded`: no `VoxKeyAuthGuard` reaches a handler that is not `@Public()`;
 * - `gateway`: a `@SubscribeMessage()` handler on NestJS 11, whose gateways ignore global guards;
 * - `hybrid-microservice`: a microservice handler of a hybrid application, which gets the global
 *   guards only with `inheritAppConfig: true`;
 * - `unchecked-scopes`: `@Scopes()` or `@AnyScope()` on a handler `ScopesGuard` does not reach;
 * - `any-token-among-scoped`: a handler that accepts any valid token while every other handler
 *   of its class that needs a token requires scopes;
 * - `scopes-required`: a handler that accepts any valid token, with `audit.requireScopes`.
 */
export type VoxKeyAuditRule =
  | 'unguarded'
  | 'gateway'
  | 'hybrid-microservice'
  | 'unchecked-scopes'
  | 'any-token-among-scoped'
  | 'scopes-required';

/** A probable mistake the start-up audit found, and its fix. */
export interface VoxKeyAuditFinding {
  /** `Class.method`. */
  readonly handler: string;
  readonly rule: VoxKeyAuditRule;
  /** One line: the handler, the problem, then the fix. */
  readonly message: string;
}
