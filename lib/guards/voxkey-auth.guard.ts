import { type ExecutionContext, Inject, Injectable, Logger, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import passport from 'passport';
import { InjectVoxKeyOptions } from '../decorators/inject-voxkey-options.decorator.js';
import {
  AuthUnavailableException,
  type BearerChallenge,
  type BearerException,
  CrossSiteRequestException,
  DpopProofException,
  UseDpopNonceException,
  InvalidRequestException,
  InvalidTokenException,
  MissingTokenException,
  UnsupportedContextException,
} from '../errors/bearer.exceptions.js';
import {
  VoxKeyConfigError,
  VoxKeyDpopError,
  VoxKeyError,
  VoxKeyJwksError,
  VoxKeyOAuthError,
  VoxKeyTokenError,
} from '../errors/voxkey.errors.js';
import type {
  ResolvedResource,
  ResolvedVoxKeyOptions,
} from '../interfaces/resolved-voxkey-options.interface.js';
import type { IntrospectionResult } from '../interfaces/introspection-result.interface.js';
import type { VoxKeyClaims } from '../interfaces/voxkey-claims.interface.js';
import type { VoxKeyTenancyRequest } from '../interfaces/voxkey-module-options.interface.js';
import type { BearerCredentials, RequestWithHeaders } from '../token/bearer-header.parser.js';
import { readRequestCredentials } from '../token/token-location.js';
import { unverifiedPayload } from '../token/jws-header.js';
import {
  authEventStart,
  publishAccepted,
  publishRefused,
  soleRealm,
} from '../events/auth-event.util.js';
import type { VoxKeyEventContext } from '../events/voxkey-event.interface.js';
import { RealmRegistry } from '../realm/realm.registry.js';
import { VerifiedTokenCache } from '../cache/verified-token.cache.js';
import { IntrospectionService } from '../services/introspection.service.js';
import { RevocationList } from '../services/revocation-list.js';
import type { VoxKeyJwtAuthInfo } from '../strategies/voxkey-jwt.strategy.js';
import { httpTransport } from '../transports/http.transport.js';
import {
  forgetUser,
  handshakeContext,
  isRefusal,
  rememberUser,
  type Transport,
} from '../transports/transport.js';
import { isEnabled, transportOf } from '../transports/transports.js';
import { type McpAuthHolder, mcpAuthInfo, setMcpAuth } from '../utils/mcp-auth-info.util.js';
import { RouteMetadataCache } from '../utils/route-metadata.util.js';
import { audienceIncludes, routeChallenge, routeResource } from '../resource/route-resource.js';
import {
  type BindingRequest,
  type CheckedBinding,
  TokenBinding,
} from '../binding/token-binding.js';
import { SharedStoreUnavailableError } from '../store/resilient.store.js';
import { setResponseHeader } from '../utils/http-response.util.js';
import {
  RESOURCE_METADATA,
  VOXKEY_INTROSPECTION_STRATEGY,
  VOXKEY_STRATEGY,
} from '../voxkey.constants.js';

/**
 * What a verification gives: the user `handleRequest` accepted, the strategy's `info`, and
 * whether it came from the verified-token cache or a session's earlier verification.
 */
interface Verified {
  user: unknown;
  info: unknown;
  cached: boolean;
}

/** What an authenticated call gives its `auth.accepted` event. */
interface Authenticated {
  realm: string;
  cached: boolean;
}

/** A session's verification, shared by its calls while its token is the same. */
interface SessionVerification {
  token: string;
  result: Promise<Verified & { claims?: VoxKeyClaims }>;
}

/** The request as the guard reads and writes it: `req.user`, and the MCP SDK's `req.auth`. */
interface AuthenticatedRequest extends RequestWithHeaders, McpAuthHolder {
  user?: unknown;
}

/** `acceptedRealms` when no decorator and no resolver binds the call: every realm is accepted. */
const UNBOUND = Symbol('unbound');

/** The HTTP request behind a call, as `tenancy.resolve` and `@RealmFromParam()` read it. */
interface TenancySource extends RequestWithHeaders {
  readonly url?: string;
  readonly originalUrl?: string;
  readonly params?: Readonly<Record<string, string>>;
}

/** The configured id of the realm a verification came from (the strategies always set it). */
function claimedRealm(info: unknown): string | undefined {
  const realm = (info as { claims?: { realm?: unknown } } | undefined)?.claims?.realm;
  return typeof realm === 'string' ? realm : undefined;
}

/** What `tenancy.resolve` is shown of a call. */
function tenancyRequest(kind: string, request: TenancySource | undefined): VoxKeyTenancyRequest {
  const headers = request?.headers ?? {};
  const host = headers.host;
  const url = request?.originalUrl ?? request?.url;
  return {
    context: kind,
    host: typeof host === 'string' ? host.toLowerCase() : undefined,
    path: typeof url === 'string' ? url.split('?', 1)[0] : undefined,
    headers,
    params: request?.params ?? {},
  };
}

/**
 * The user of a DPoP request: the claims with the proof's key (`dpop: { jkt, alg }`), as a copy
 * (the verified claims are cached and shared by requests). A subclass's own user is kept as is.
 */
function withProofKey(
  user: unknown,
  claims: VoxKeyClaims | undefined,
  binding: CheckedBinding,
): unknown {
  const { proof } = binding;
  if (proof === undefined || user !== claims || typeof user !== 'object' || user === null)
    return user;
  return { ...user, dpop: { jkt: proof.jkt, alg: proof.alg } };
}

/** Whether two `cnf` values name the same `jkt` and `x5t#S256` (other members do not bind). */
function sameBinding(a: unknown, b: unknown): boolean {
  const read = (cnf: unknown) => {
    const value = (typeof cnf === 'object' && cnf !== null ? cnf : {}) as Record<string, unknown>;
    return `${String(value.jkt)}\n${String(value['x5t#S256'])}`;
  };
  return read(a) === read(b);
}

/** The refusals `@OptionalAuth({ invalidToken: 'anonymous' })` turns into an anonymous call. */
function passesAsAnonymous(
  error: unknown,
): error is InvalidTokenException | AuthUnavailableException {
  return error instanceof InvalidTokenException || error instanceof AuthUnavailableException;
}

/** A log-safe account of a failure: our errors' messages are fixed text; others give only their name. */
function describeFailure(failure: unknown): string {
  if (failure instanceof VoxKeyError) return failure.message;
  return failure instanceof Error ? failure.name : 'no reason given';
}

/**
 * Authenticates HTTP requests with VoxKey access tokens. Registered globally unless
 * `globalGuard: false`; `@Public()` routes pass before any token is read, `@OptionalAuth()`
 * routes without Bearer credentials pass with no user. Other execution
 * contexts (GraphQL, WebSockets, microservices) are denied unless public.
 *
 * One way through: Bearer credentials → deny list → verified-token cache → on a miss,
 * `passport.authenticate` with the strategy `validation` chose (`voxkey-jwt` or
 * `voxkey-introspection`) → `handleRequest` → `req.user`. A failure is a 400 or 401 with an RFC
 * 6750 challenge, or a 503 when the realm could not be asked; never a pass with a user
 * (`@OptionalAuth({ invalidToken: 'anonymous' })` passes such a call with none).
 *
 * @example
 * // Per controller, with `globalGuard: false`:
 * @UseGuards(VoxKeyAuthGuard, ScopesGuard)
 * @Controller('posts')
 * export class PostsController {}
 * @publicApi
 */
@Injectable()
export class VoxKeyAuthGuard extends AuthGuard() {
  protected readonly logger = new Logger('VoxKeyAuthGuard');

  @Inject(RealmRegistry) private readonly realms!: RealmRegistry;
  @Inject(RevocationList) private readonly revocationList!: RevocationList;
  @Inject(IntrospectionService) private readonly introspection!: IntrospectionService;
  @Inject(VerifiedTokenCache) private readonly verifiedTokens!: VerifiedTokenCache;
  @Inject(TokenBinding) private readonly binding!: TokenBinding;

  constructor(
    protected readonly reflector: Reflector,
    @InjectVoxKeyOptions() protected readonly voxkeyOptions: ResolvedVoxKeyOptions,
  ) {
    const strategy =
      voxkeyOptions.validation === 'jwt' ? VOXKEY_STRATEGY : VOXKEY_INTROSPECTION_STRATEGY;
    super({ defaultStrategy: strategy });
    this.strategy = strategy;
    this.routes = new RouteMetadataCache(reflector);
  }

  private readonly routes: RouteMetadataCache;

  /** Verifications of sessions (GraphQL operations, sockets), for their later calls. */
  private readonly sessions = new WeakMap<object, SessionVerification>();

  /** The Passport strategy `validation` chose. */
  private readonly strategy: string;

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.routes.get(context);
    if (route.mode === 'public') return true;
    // Undefined unless someone listens to the auth events: then no event is built.
    const started = authEventStart();
    const transport = transportOf(context);
    if (transport === undefined || !isEnabled(context, this.voxkeyOptions)) {
      this.warnOncePerMinute(
        `context:${context.getType()}`,
        `Denied a '${context.getType()}' handler: VoxKey does not authenticate this context here (see the 'contexts' option); mark the handler @Public() to allow it`,
      );
      const refusal = new UnsupportedContextException(context.getType());
      if (started !== undefined) {
        publishRefused(context.getType<VoxKeyEventContext>(), refusal, this.eventRealm(), started);
      }
      throw transport ? await transport.refuse(context, refusal) : refusal;
    }
    let credentials: BearerCredentials | undefined;
    try {
      credentials = this.callCredentials(context, transport);
      const authenticated = await this.authenticateCall(
        context,
        transport,
        route.mode === 'optional',
        credentials,
      );
      if (started !== undefined && authenticated !== undefined) {
        const { realm, cached } = authenticated;
        publishAccepted(context.getType<VoxKeyEventContext>(), realm, cached, started);
      }
      return true;
    } catch (error) {
      // A refused call leaves its session (socket, operation) without a user or a verification.
      const session = transport.session(context);
      if (session !== undefined) {
        this.sessions.delete(session);
        forgetUser(session);
      }
      const anonymous = route.anonymousOnInvalid && passesAsAnonymous(error);
      if (started !== undefined && isRefusal(error)) {
        const realm = this.eventRealm(credentials);
        publishRefused(context.getType<VoxKeyEventContext>(), error, realm, started, anonymous);
      }
      if (anonymous) {
        this.admitAnonymously(context, transport, error);
        return true;
      }
      // The library's refusals take the transport's own form; a subclass's errors pass unchanged.
      throw isRefusal(error) ? await transport.refuse(context, error) : error;
    }
  }

  /**
   * `@OptionalAuth({ invalidToken: 'anonymous' })` and a token that failed a check, or could not
   * be checked: the call goes on with no user and no token (nothing of the rejected token was
   * kept), and a client whose token was refused is told so where the transport has headers.
   */
  private admitAnonymously(
    context: ExecutionContext,
    transport: Transport,
    refusal: InvalidTokenException | AuthUnavailableException,
  ): void {
    this.leaveWithoutUser(context, transport);
    // An outage says nothing about the token: the client has no reason to refresh it.
    if (refusal instanceof InvalidTokenException) transport.announce?.(context, refusal);
    this.logger.debug(
      `Let through without a user (@OptionalAuth, invalidToken: 'anonymous'): ${refusal.getStatus()} refused`,
    );
  }

  /** An anonymous `@OptionalAuth()` call: no user where the handler's decorators look, whoever set one. */
  private leaveWithoutUser(context: ExecutionContext, transport: Transport): void {
    if (transport !== httpTransport) return transport.setUser(context, undefined);
    const request = this.getRequest(context) as AuthenticatedRequest;
    request.user = undefined;
    setMcpAuth(request, undefined);
  }

  /** The call's Bearer credentials, from every location the transport and the options allow. */
  private callCredentials(context: ExecutionContext, transport: Transport): BearerCredentials {
    // On HTTP through getRequest, so a subclass that overrides it is read as before.
    return transport === httpTransport
      ? readRequestCredentials(
          this.getRequest(context) as AuthenticatedRequest,
          this.voxkeyOptions.tokenLocation,
          this.voxkeyOptions.dpop.mode !== 'off',
        )
      : transport.credentials(context, this.voxkeyOptions);
  }

  /**
   * One call: Bearer credentials → the session's earlier verification, or the verified-token
   * cache, or Passport → the realms this call accepts → the deny list → the user where the
   * transport keeps it. Resolves with the realm and whether the verification was cached;
   * undefined for an anonymous `@OptionalAuth()` call.
   */
  private async authenticateCall(
    context: ExecutionContext,
    transport: Transport,
    optional: boolean,
    credentials: BearerCredentials,
  ): Promise<Authenticated | undefined> {
    const http = transport === httpTransport;
    const request = http ? (this.getRequest(context) as AuthenticatedRequest) : undefined;
    if (optional && credentials.kind === 'missing') {
      // `@OptionalAuth()` without Bearer credentials: the handler runs without a user.
      this.leaveWithoutUser(context, transport);
      return undefined;
    }
    if (credentials.kind !== 'token') throw this.rejectCredentials(context, credentials);
    const token = credentials.token;
    const dpop = credentials.dpop === true;
    const session = transport.session(context);
    const { user, info, cached } =
      session === undefined
        ? // A DPoP token is handed to Passport in a Bearer header of its own, as off the route.
          await this.verify(context, token, http && !credentials.fromCookie && !dpop)
        : await this.verifyForSession(context, transport, session, token);
    const realm = this.realmOf(context, info);
    const claims = ((info as Partial<VoxKeyJwtAuthInfo> | undefined)?.claims ?? user) as
      VoxKeyClaims | undefined;
    const resource = routeResource(this.routes.get(context), this.voxkeyOptions);
    this.assertResourceAudience(context, info, resource);
    const source = transport.request(context);
    await this.assertRealmAccepted(context, source, realm);
    // The token's binding (cnf) against the HTTP request this call is: on every call, cached
    // verifications too; nothing can prove it on a socket, a subscription or a message.
    const proven = http ? request : transport.httpRequest?.(context);
    const binding = await this.checkBinding(context, proven, token, dpop, claims?.cnf);
    await this.assertNotRevoked(context, token, realm);
    if (this.voxkeyOptions.validation === 'jwt' && this.requiresActiveToken(context)) {
      await this.assertActive(context, token, realm, claims?.cnf);
    }
    // The proof is recorded as used last, so a request refused for any reason writes nothing.
    await this.consumeProof(context, binding);
    // Only once every check passed: handlers and later reads must never see a refused user.
    const principal = withProofKey(user, claims, binding);
    if (request) {
      request.user = principal;
      // For `@BearerToken()`, which cannot tell which location the token came from.
      rememberUser(request, principal, token);
      if (binding.proof !== undefined) this.sendNextNonce(context);
      // For the MCP SDK's Streamable HTTP transport, which reads the caller from `req.auth`.
      setMcpAuth(
        request,
        mcpAuthInfo(
          token,
          (principal === user ? claims : principal) as VoxKeyClaims,
          realm,
          this.realms.get(realm)?.config.audiences,
          resource?.resource,
        ),
      );
    } else transport.setUser(context, principal, token);
    return { realm, cached };
  }

  /**
   * The realm an `auth.refused` event names: with one realm, that realm; with several, the
   * configured realm whose issuer the token's (unverified) `iss` is, if any. Never the `iss`.
   */
  private eventRealm(credentials?: BearerCredentials): string | undefined {
    const sole = soleRealm(this.voxkeyOptions);
    if (sole !== undefined || credentials?.kind !== 'token') return sole;
    return this.realms.forIssuer(unverifiedPayload(credentials.token)?.iss)?.config.id;
  }

  /**
   * The realm of a verification: the strategies name it; should a verification not (a custom
   * strategy), it is the only realm, or with several a refusal.
   */
  private realmOf(context: ExecutionContext, info: unknown): string {
    const realm = claimedRealm(info);
    if (realm !== undefined && this.realms.get(realm) !== undefined) return realm;
    if (!this.voxkeyOptions.multiRealm) return this.voxkeyOptions.realms[0].id;
    throw this.reject(
      context,
      new InvalidTokenException(this.challenge(context), 'issuer'),
      'issuer: the verification named no configured realm',
    );
  }

  /** Refuses a token revoked through this API (here, or by another instance with a shared store). */
  private async assertNotRevoked(
    context: ExecutionContext,
    token: string,
    realm: string,
  ): Promise<void> {
    if (await this.revocationList.isRevoked(token, realm)) {
      throw this.reject(
        context,
        new InvalidTokenException(this.challenge(context), 'revoked'),
        'revoked: revoked through this API',
      );
    }
  }

  /**
   * The realms this call accepts: `@Realm()` / `@RealmFromParam()` on the route, else
   * `tenancy.resolve`, else every configured realm. A token of another realm is refused with the
   * same answer as an issuer that is not configured.
   */
  private async assertRealmAccepted(
    context: ExecutionContext,
    request: TenancySource | undefined,
    realm: string,
    kind: string = context.getType(),
  ): Promise<void> {
    const named = await this.acceptedRealms(context, request, kind);
    if (named === UNBOUND) return;
    // A string or a list of them; anything else accepts nothing.
    const ok = Array.isArray(named) ? named.includes(realm) : named === realm;
    if (!ok) {
      throw this.reject(
        context,
        new InvalidTokenException(this.challenge(context), 'issuer'),
        `issuer: realm '${realm}' is not accepted here`,
      );
    }
  }

  /**
   * What the route's `@Realm()` / `@RealmFromParam()`, else `tenancy.resolve`, names for this
   * call (unchecked: a string, a list, or anything a resolver returned); `UNBOUND` when neither
   * applies. A resolver that throws is a 503.
   */
  private async acceptedRealms(
    context: ExecutionContext,
    request: TenancySource | undefined,
    kind: string,
  ): Promise<unknown> {
    const binding = this.routes.get(context).realms;
    if (binding !== undefined) {
      return 'ids' in binding ? binding.ids : request?.params?.[binding.param];
    }
    const resolve = this.voxkeyOptions.tenancy.resolve;
    if (resolve === undefined) return UNBOUND;
    try {
      return await resolve(tenancyRequest(kind, request));
    } catch (error) {
      this.errorOncePerMinute('tenancy', `'tenancy.resolve' threw: ${describeFailure(error)}`);
      throw this.unavailable(context, new VoxKeyConfigError(`'tenancy.resolve' failed`));
    }
  }

  /**
   * Verifies the credentials a connection opens with (a socket.io handshake, a WebSocket
   * upgrade, a subscription's `connection_init`) before any handler runs: the cache or Passport,
   * then `handleRequest`, then the deny list, with an HTTP context whose request is the
   * handshake. Resolves with the user, the token and the last second it is accepted; rejects with
   * the library's refusal (a 400, 401 or 503 `HttpException`), which the connection helpers turn
   * into their transport's answer. `tenancy.resolve` sees the handshake as a call of `kind`.
   * The connection is under the protected resource `gateway`'s `@Resource()` names, else the only
   * one configured: the token's `aud` must name it, as on the gateway's messages. The outcome is
   * an `auth.accepted` or `auth.refused` event of context `kind`.
   */
  async authenticateConnection(
    handshake: object,
    credentials: BearerCredentials,
    kind: 'ws' | 'graphql' = 'ws',
    gateway?: Type,
  ): Promise<{ user: unknown; token: string; until: number | undefined }> {
    const started = authEventStart();
    if (started === undefined) return this.openConnection(handshake, credentials, kind, gateway);
    try {
      const { realm, cached, ...accepted } = await this.openConnection(
        handshake,
        credentials,
        kind,
        gateway,
      );
      publishAccepted(kind, realm, cached, started);
      return accepted;
    } catch (error) {
      if (isRefusal(error)) publishRefused(kind, error, this.eventRealm(credentials), started);
      throw error;
    }
  }

  /** `authenticateConnection`, with the realm and whether the verification was cached. */
  private async openConnection(
    handshake: object,
    credentials: BearerCredentials,
    kind: 'ws' | 'graphql',
    gateway: Type | undefined,
  ): Promise<{ user: unknown; token: string; until: number | undefined } & Authenticated> {
    const context = handshakeContext(handshake);
    if (credentials.kind !== 'token') throw this.rejectCredentials(context, credentials);
    const token = credentials.token;
    const { user, info, cached } = await this.verify(context, token);
    const realm = this.realmOf(context, info);
    const named =
      gateway === undefined
        ? undefined
        : this.reflector.get<string | undefined>(RESOURCE_METADATA, gateway);
    this.assertResourceAudience(
      context,
      info,
      routeResource({ resource: named }, this.voxkeyOptions),
    );
    // A connection has no route: `tenancy.resolve` binds it, from its handshake.
    await this.assertRealmAccepted(context, handshake as TenancySource, realm, kind);
    const claims = (info as Partial<VoxKeyJwtAuthInfo> | undefined)?.claims;
    // Nothing proves a binding on a connection: a sender-constrained token is refused here.
    await this.checkBinding(
      context,
      undefined,
      token,
      false,
      (claims ?? (user as VoxKeyClaims))?.cnf,
    );
    await this.assertNotRevoked(context, token, realm);
    const until = claims && this.verifiedTokens.acceptedUntil(claims);
    return { user, token, until, realm, cached };
  }

  /**
   * A session (a GraphQL operation, a socket) verifies its token once: concurrent calls share the
   * verification, and later ones reuse it while the token is within its lifetime and its key is
   * still published. A failure is not kept, so the next call tries again.
   */
  private async verifyForSession(
    context: ExecutionContext,
    transport: Transport,
    session: object,
    token: string,
  ): Promise<Verified> {
    const earlier = this.sessions.get(session);
    if (earlier?.token === token) {
      const verified = await earlier.result;
      if (this.stillValid(verified)) {
        return {
          user: await this.admit(null, verified.claims, verified.info, context),
          info: verified.info,
          cached: true,
        };
      }
    }
    const result = this.verify(context, token).then((verified) => ({
      ...verified,
      claims: (verified.info as Partial<VoxKeyJwtAuthInfo> | undefined)?.claims,
    }));
    const entry = { token, result };
    this.sessions.set(session, entry);
    try {
      const verified = await result;
      const until = verified.claims && this.verifiedTokens.acceptedUntil(verified.claims);
      if (until !== undefined) transport.closeAtExpiry?.(context, until, this.voxkeyOptions);
      return verified;
    } catch (error) {
      if (this.sessions.get(session) === entry) this.sessions.delete(session);
      throw error;
    }
  }

  /** Whether a session's verification still holds: the token within its lifetime, its key published. */
  private stillValid(verified: Verified & { claims?: VoxKeyClaims }): boolean {
    const info = verified.info as Partial<VoxKeyJwtAuthInfo> | undefined;
    if (!verified.claims || !info?.key || !this.realms.isCurrent(verified.claims.realm, info.key)) {
      return false;
    }
    return this.verifiedTokens.isWithinLifetime(verified.claims);
  }

  /** The token's user: from the verified-token cache, or through Passport (then cached). */
  private async verify(
    context: ExecutionContext,
    token: string,
    fromRoute = false,
  ): Promise<Verified> {
    const jwt = this.voxkeyOptions.validation === 'jwt';
    const cached = jwt ? this.verifiedTokens.get(token) : undefined;
    if (cached !== undefined && this.realms.isCurrent(cached.claims.realm, cached.key)) {
      // The same hook, with what the strategy reported, so a subclass policy applies to cached
      // tokens too.
      const info: VoxKeyJwtAuthInfo = cached;
      return { user: await this.admit(null, cached.claims, info, context), info, cached: true };
    }
    const verified = await this.authenticate(context, token, fromRoute);
    // Only verified claims are cached (not a subclass's mapping of them), and only once
    // handleRequest accepted them.
    const info = verified.info as Partial<VoxKeyJwtAuthInfo> | undefined;
    if (jwt && info?.key && info.claims) this.verifiedTokens.set(token, info.claims, info.key);
    return verified;
  }

  /** `handleRequest`, awaited (a subclass may answer with a promise); no user is never a pass. */
  private async admit(
    error: unknown,
    user: unknown,
    info: unknown,
    context: ExecutionContext,
    status?: unknown,
  ): Promise<unknown> {
    const accepted: unknown = await this.handleRequest(error, user, info, context, status);
    if (!accepted) {
      throw this.reject(
        context,
        new InvalidTokenException(this.challenge(context)),
        'invalid: no user',
      );
    }
    return accepted;
  }

  /**
   * Runs the strategy through Passport's public `passport.authenticate`, as
   * `AuthGuard.canActivate` does, and hands its outcome to `handleRequest`. Passport is given
   * the request's credentials (its headers), not the framework's request object: the strategy
   * reads nothing else, and the session helpers Passport adds to the object it is given
   * (`logIn`, `isAuthenticated`, ...) are of no use to a bearer token and costly on Express's
   * request objects (bench/README.md). Passport failing by itself
   * (no such strategy while the application closes) is a 503, never a 500.
   */
  private async authenticate(
    context: ExecutionContext,
    token: string,
    fromRoute: boolean,
  ): Promise<Verified> {
    const http = context.getType() === 'http';
    const request = fromRoute ? (this.getRequest(context) as RequestWithHeaders) : undefined;
    // A route's request carries the token in its header; elsewhere (resolvers, sockets, messages,
    // a subscription's connectionParams) Passport gets a request whose only header is the token's.
    const credentials: RequestWithHeaders = request
      ? { headers: request.headers, rawHeaders: request.rawHeaders ?? request.raw?.rawHeaders }
      : { headers: { authorization: `Bearer ${token}` } };
    const options = {
      session: false,
      ...(await this.getAuthenticateOptions(context)),
      ...(await this.introspectionRealm(context)),
      // A `cnf` binding is checked by this guard, after the strategy (checkBinding).
      bindingChecked: true,
    };
    return new Promise((resolve, reject) => {
      const done = (error: unknown, user: unknown, info?: unknown, status?: unknown): void => {
        this.admit(error, user, info, context, status).then(
          (accepted) => resolve({ user: accepted, info, cached: false }),
          reject,
        );
      };
      passport.authenticate(this.strategy, options, done)(
        credentials,
        // Passport's `res` serves strategies that redirect, which these do not.
        (http ? context.switchToHttp().getResponse() : undefined) ?? {},
        // Called only when Passport itself fails, or a strategy passes: neither authenticates.
        (error?: unknown) => {
          if (!error) return done(null, false);
          this.errorOncePerMinute(
            'passport',
            `Passport could not authenticate with '${this.strategy}': ${describeFailure(error)}`,
          );
          reject(this.unavailable(context, error));
        },
      );
    });
  }

  /**
   * With several realms and `validation: 'introspection'`, the realm an opaque token is asked of:
   * the one realm the route or `tenancy.resolve` binds the call to, when it names exactly one
   * (the binding itself is checked after verification, as for JWTs).
   */
  private async introspectionRealm(context: ExecutionContext): Promise<{ realm?: string }> {
    if (this.voxkeyOptions.validation !== 'introspection' || !this.voxkeyOptions.multiRealm) {
      return {};
    }
    const request = transportOf(context)?.request(context) as TenancySource | undefined;
    let named: unknown;
    try {
      named = await this.acceptedRealms(context, request, context.getType());
    } catch {
      return {}; // refused by the binding check, after verification
    }
    const one = Array.isArray(named) ? (named.length === 1 ? named[0] : undefined) : named;
    return typeof one === 'string' ? { realm: one } : {};
  }

  /** Whether `@RequireActiveToken()` marks the handler or its controller. */
  protected requiresActiveToken(context: ExecutionContext): boolean {
    return this.routes.get(context).requireActive;
  }

  /**
   * `@RequireActiveToken()`: the realm must still consider the token active (fail closed), and
   * bound to what the token itself says (`cnf`, already checked against the request): a token
   * the realm calls bound but that does not say so is refused.
   * @see RFC 7662 §2.2, RFC 9449 §6.2, RFC 8705 §3.2
   */
  protected async assertActive(
    context: ExecutionContext,
    token: string,
    realm?: string,
    cnf?: unknown,
  ): Promise<void> {
    let answer: IntrospectionResult;
    try {
      answer = await this.introspection.introspect(token, { realm });
    } catch (error) {
      throw this.unavailable(context, error);
    }
    if (!answer.active) {
      throw this.reject(
        context,
        new InvalidTokenException(this.challenge(context), 'inactive'),
        'inactive: the realm says the token is not active',
      );
    }
    if (!sameBinding(answer.cnf, cnf)) {
      throw this.reject(
        context,
        new InvalidTokenException(this.challenge(context), 'binding'),
        'binding: the introspection answer binds the token otherwise than its cnf claim',
      );
    }
  }

  /** The token's binding against the request, or the refusal in the transport's form. */
  private async checkBinding(
    context: ExecutionContext,
    source: unknown,
    token: string,
    dpop: boolean,
    cnf: unknown,
  ): Promise<CheckedBinding> {
    try {
      return await this.binding.check(source as BindingRequest | undefined, token, dpop, cnf);
    } catch (error) {
      throw this.bindingRefusal(context, error);
    }
  }

  /** Records the request's DPoP proof as used: a proof seen before is refused. */
  private async consumeProof(context: ExecutionContext, binding: CheckedBinding): Promise<void> {
    try {
      await this.binding.consume(binding);
    } catch (error) {
      throw this.bindingRefusal(context, error);
    }
  }

  /** A binding failure as a 401 (`invalid_token`, `invalid_dpop_proof`, `use_dpop_nonce`), or a 503. */
  private bindingRefusal(context: ExecutionContext, error: unknown): unknown {
    if (error instanceof SharedStoreUnavailableError) return this.unavailable(context, error);
    if (error instanceof VoxKeyTokenError) {
      return this.reject(
        context,
        new InvalidTokenException(this.challenge(context), error.reason),
        `${error.reason}: ${error.message}`,
      );
    }
    if (!(error instanceof VoxKeyDpopError)) return error;
    if (error.reason === 'binding') {
      return this.reject(
        context,
        new InvalidTokenException(this.challenge(context), 'binding'),
        `binding: ${error.message}`,
      );
    }
    const challenge = this.dpopChallenge(context);
    if (error.reason === 'nonce') {
      return this.reject(
        context,
        new UseDpopNonceException(challenge, this.binding.nextNonce() ?? ''),
        `use_dpop_nonce: ${error.message}`,
      );
    }
    return this.reject(
      context,
      new DpopProofException(challenge),
      `invalid_dpop_proof (${error.reason}): ${error.message}`,
    );
  }

  /** The route's challenge with the DPoP algorithms, for the DPoP refusals. */
  private dpopChallenge(context: ExecutionContext): BearerChallenge & { dpopAlgs: string } {
    const challenge = this.challenge(context);
    const dpopAlgs = this.voxkeyOptions.dpop.algorithms.join(' ');
    return typeof challenge === 'string'
      ? { realm: challenge, dpopAlgs }
      : { ...challenge, dpopAlgs };
  }

  /** With server nonces, the next one on the response of an accepted DPoP request. @see RFC 9449 §8.2 */
  private sendNextNonce(context: ExecutionContext): void {
    const nonce = this.binding.nextNonce();
    if (nonce === undefined || context.getType() !== 'http') return;
    setResponseHeader(context, 'DPoP-Nonce', nonce);
    setResponseHeader(context, 'Cache-Control', 'no-store');
  }

  /**
   * Turns the strategy's outcome into the user or into a fail-closed HTTP error: a dependency
   * that could not answer is a 503, a refused token a 401 whose `error_description` names the
   * typed reason.
   */
  override handleRequest<TUser = VoxKeyClaims>(
    error: unknown,
    user: unknown,
    info: unknown,
    context: ExecutionContext,
    _status?: unknown,
  ): TUser {
    if (!error && user) return user as TUser;
    const failure = error ?? info;
    if (
      failure instanceof VoxKeyJwksError ||
      failure instanceof VoxKeyOAuthError ||
      failure instanceof VoxKeyConfigError
    ) {
      throw this.unavailable(context, failure);
    }
    if (!(failure instanceof VoxKeyTokenError)) {
      // An unexpected failure while checking a token still never lets the request through.
      this.logger.error(`Token validation failed unexpectedly: ${describeFailure(failure)}`);
    }
    const reason = failure instanceof VoxKeyTokenError ? failure.reason : 'invalid';
    throw this.reject(
      context,
      new InvalidTokenException(this.challenge(context), reason),
      `${reason}: ${describeFailure(failure)}`,
    );
  }

  /**
   * 503 for a dependency that failed (key set, introspection endpoint) or refused this API
   * itself (its own credentials or configuration): the token may be fine, so never a 401, and
   * never a 500. Problems on this API's side are logged as errors.
   */
  protected unavailable(_context: ExecutionContext, failure: unknown): AuthUnavailableException {
    if (failure instanceof VoxKeyConfigError) {
      this.errorOncePerMinute(failure.code, `Token not checked: ${failure.message}`);
    } else if (failure instanceof VoxKeyOAuthError && !failure.retryable) {
      this.errorOncePerMinute(
        failure.code,
        `Token not checked: ${failure.message}; the realm refused this API's own request (check clientId, clientSecret and the endpoint)`,
      );
    } else {
      // Outages are logged once by the component that saw them; per request only at debug level.
      this.logger.debug(`Token not checked: unavailable: ${describeFailure(failure)}`);
    }
    const retryAfter =
      failure instanceof VoxKeyOAuthError
        ? (failure.retryAfter ?? 1)
        : this.realms.retryAfterSeconds;
    return new AuthUnavailableException(retryAfter);
  }

  /** Server-side problems are logged, but clients must not be able to flood the log with them. */
  private readonly lastLogged = new Map<string, number>();

  private oncePerMinute(key: string): boolean {
    const now = Date.now();
    if ((this.lastLogged.get(key) ?? Number.NEGATIVE_INFINITY) > now - 60_000) return false;
    this.lastLogged.set(key, now);
    return true;
  }

  private errorOncePerMinute(code: string, message: string): void {
    if (this.oncePerMinute(code)) this.logger.error(message);
  }

  private warnOncePerMinute(key: string, message: string): void {
    if (this.oncePerMinute(key)) this.logger.warn(message);
  }

  /**
   * The answer to credentials that hold no usable token: 401 without one, 400 if malformed, 403
   * for a token cookie on a cross-site request.
   */
  private rejectCredentials(
    context: ExecutionContext,
    credentials: Exclude<BearerCredentials, { kind: 'token' }>,
  ): BearerException | CrossSiteRequestException {
    switch (credentials.kind) {
      case 'missing':
        return this.reject(
          context,
          new MissingTokenException(this.challenge(context)),
          'no Bearer credentials',
        );
      case 'malformed':
        return this.reject(
          context,
          new InvalidRequestException(this.challenge(context), credentials.description),
          credentials.detail,
        );
      case 'too_large':
        return this.reject(
          context,
          new InvalidTokenException(this.challenge(context), 'too_large'),
          'too_large: the token is longer than the cap',
        );
      case 'cross_site':
        // Not a Bearer refusal: the token was never read, so there is no challenge.
        this.logger.debug('Rejected (403): cross-site request with the token cookie');
        return new CrossSiteRequestException();
    }
  }

  /**
   * Logs the reason at debug level and returns the exception; thrown, it reaches the client in
   * the context's own form (on HTTP with its `WWW-Authenticate` challenge).
   */
  protected reject(
    _context: ExecutionContext,
    exception: BearerException,
    reason: string,
  ): BearerException {
    this.logger.debug(`Rejected (${exception.getStatus()}): ${reason}`);
    return exception;
  }

  /** The challenge of this call's refusals: the realm, and on a resource's route its metadata URL and scopes. */
  private challenge(context: ExecutionContext): string | BearerChallenge {
    return routeChallenge(this.routes.get(context), this.voxkeyOptions);
  }

  /**
   * Under a protected resource (a route's, a connection's), the token's `aud` must name it
   * exactly (no normalisation): a token the realm issued for another of its resources is refused,
   * even when it holds another audience this API accepts. Runs on cached verifications too, and
   * at a connection's handshake.
   * @see RFC 8707 §2, RFC 9068 §4
   */
  private assertResourceAudience(
    context: ExecutionContext,
    info: unknown,
    resource: ResolvedResource | undefined,
  ): void {
    if (resource === undefined) return;
    const aud = (info as { claims?: { aud?: unknown } } | undefined)?.claims?.aud;
    if (!audienceIncludes(aud, resource.resource)) {
      throw this.reject(
        context,
        new InvalidTokenException(this.challenge(context), 'audience'),
        `audience: 'aud' does not name the resource '${resource.resource}'`,
      );
    }
  }
}
