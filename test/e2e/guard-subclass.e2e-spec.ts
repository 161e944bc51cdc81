import { type ExecutionContext, Injectable, type INestApplication, Module } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import request from 'supertest';
import {
  InjectVoxKeyOptions,
  type ResolvedVoxKeyOptions,
  ScopesGuard,
  VoxKeyAuthGuard,
  VoxKeyModule,
} from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { createApp, PLATFORMS } from '../support/app';
import { CONTROLLERS } from '../support/routes';

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
  let realm: VoxKeyTestRealm;
  let app: INestApplication;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
    app = await createApp(
      platform,
      [VoxKeyModule.forRoot({ ...realm.moduleOptions(), globalGuard: false }), AuditModule],
      CONTROLLERS,
    );
  });
  afterAll(async () => {
    await app?.close();
    await realm?.close();
  });
  const get = (path: string, token?: string) => {
    const req = request(app.getHttpServer()).get(path);
    return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
  };

  it('receives the resolved options through InjectVoxKeyOptions()', () => {
    const guard = app.get(AuditedAuthGuard);
    expect(guard.injectedOptions.endpoints.issuer).toBe(realm.issuer);
    expect(guard.injectedOptions.audiences).toEqual(['https://api.example.test']);
  });

  it('authenticates as VoxKeyAuthGuard does, on a miss and on a cache hit, and runs its own code', async () => {
    const token = realm.mint({ subject: 'audited', scope: 'read:posts' });
    expect((await get('/posts', token)).status).toBe(200);
    expect((await get('/posts', token)).status).toBe(200);
    expect(app.get(AuditLog).entries.slice(-2)).toEqual(['audited', 'audited']);
  });

  it('refuses what VoxKeyAuthGuard refuses', async () => {
    const missing = await get('/open');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="https://api.example.test"');
    expect((await get('/open', realm.mint({ expiresIn: -60 }))).body.message).toBe(
      'The access token expired',
    );
    expect((await get('/posts', realm.mint())).status).toBe(403);
  });
});
