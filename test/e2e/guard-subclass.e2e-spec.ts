import { type ExecutionContext, Injectable, Module } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import request from 'supertest';
import {
  InjectVoxKeyOptions,
  type ResolvedVoxKeyOptions,
  ScopesGuard,
  VoxKeyAuthGuard,
} from '../../lib/index';
import { PLATFORMS } from '../support/app';
import { realmScenario } from '../support/realm-scenario';
import { movableClock, skipTime } from '../support/clock';

/** A dependency of the application's own, which the subclass adds. */
@Injectable()
class AuditLog {
  readonly entries: string[] = [];
}

/** What the README invites: a guard subclass with a dependency of its own. */
@Injectable()
class AuditedAuthGuard extends VoxKeyAuthGuard {
  constructor(
    reflector: Reflector,
    @InjectVoxKeyOptions() readonly injectedOptions: ResolvedVoxKeyOptions,
    private readonly audit: AuditLog,
  ) {
    super(reflector, injectedOptions);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const allowed = await super.canActivate(context);
    const user = context.switchToHttp().getRequest<{ user?: { sub?: string } }>().user;
    this.audit.entries.push(user?.sub ?? 'public');
    return allowed;
  }
}

@Module({
  providers: [
    AuditLog,
    AuditedAuthGuard,
    { provide: APP_GUARD, useExisting: AuditedAuthGuard },
    { provide: APP_GUARD, useExisting: ScopesGuard },
  ],
})
class AuditModule {}

describe.each(PLATFORMS)('a VoxKeyAuthGuard subclass with its own dependency (%s)', (platform) => {
  const { ctx } = realmScenario(platform, {}, { globalGuard: false }, { imports: [AuditModule] });
  const get = (path: string, token?: string) => {
    const req = request(ctx.app.getHttpServer()).get(path);
    return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
  };

  it('receives the resolved options through InjectVoxKeyOptions()', () => {
    const guard = ctx.app.get(AuditedAuthGuard);
    expect(guard.injectedOptions.realms[0].endpoints.issuer).toBe(ctx.realm.issuer);
    expect(guard.injectedOptions.realms[0].audiences).toEqual(['https://api.example.test']);
  });

  it('authenticates as VoxKeyAuthGuard does, on a miss and on a cache hit, and runs its own code', async () => {
    const token = ctx.realm.mint({ subject: 'audited', scope: 'read:posts' });
    expect((await get('/posts', token)).status).toBe(200);
    expect((await get('/posts', token)).status).toBe(200);
    expect(ctx.app.get(AuditLog).entries.slice(-2)).toEqual(['audited', 'audited']);
  });

  it('refuses what VoxKeyAuthGuard refuses', async () => {
    const missing = await get('/open');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="https://api.example.test"');
    expect((await get('/open', ctx.realm.mint({ expiresIn: -60 }))).body.message).toBe(
      'The access token expired',
    );
    expect((await get('/posts', ctx.realm.mint())).status).toBe(403);
  });
});

/** A subclass whose handleRequest maps the claims to a user of its own. */
@Injectable()
class MappingAuthGuard extends VoxKeyAuthGuard {
  override handleRequest<TUser>(
    error: unknown,
    user: unknown,
    info: unknown,
    context: ExecutionContext,
  ): TUser {
    const claims = super.handleRequest<{ sub: string; exp: number }>(error, user, info, context);
    return { id: claims.sub, sawExp: typeof claims.exp === 'number' } as TUser;
  }
}

@Module({
  providers: [MappingAuthGuard, { provide: APP_GUARD, useExisting: MappingAuthGuard }],
})
class MappingModule {}

describe('a subclass that maps the user in handleRequest (Express)', () => {
  const { ctx, call } = realmScenario(
    'express',
    {},
    { globalGuard: false, clockTolerance: 0 },
    { imports: [MappingModule] },
  );
  movableClock();

  it('gets the verified claims on a miss and on a cache hit, and an expired cached token is refused', async () => {
    const token = ctx.realm.mint({ subject: 'mapped', expiresIn: 2 });
    const me = () =>
      request(ctx.app.getHttpServer()).get('/me').set('Authorization', `Bearer ${token}`);
    expect((await me()).body).toEqual({ id: 'mapped', sawExp: true });
    expect((await me()).body).toEqual({ id: 'mapped', sawExp: true });
    // The cache keeps the verified claims, so their exp still ends the token's life.
    skipTime(2_100);
    const res = await call(token);
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('The access token expired');
  });
});
