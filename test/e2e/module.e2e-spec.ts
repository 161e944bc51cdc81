import {
  Controller,
  type ExecutionContext,
  ForbiddenException,
  Get,
  type INestApplication,
  Injectable,
  Module,
  UseGuards,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  Scopes,
  ScopesGuard,
  VOXKEY_MODULE_OPTIONS,
  VoxKeyAuthGuard,
  VoxKeyModule,
  type VoxKeyClaims,
  type VoxKeyModuleOptions,
  type VoxKeyOptionsFactory,
  VoxKeyUser,
} from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { createApp, PLATFORMS } from '../support/app';

@Controller()
class MixedController {
  @Get('unguarded') unguarded() {
    return { open: true };
  }

  @UseGuards(VoxKeyAuthGuard, ScopesGuard)
  @Scopes('read:posts')
  @Get('guarded')
  guarded() {
    return { guarded: true };
  }
}

@Controller()
class ScopedController {
  @Scopes('read:posts') @Get('guarded') guarded() {
    return { guarded: true };
  }
}

/** A feature module that does not import VoxKeyModule: its guards resolve only if the module is global. */
@Module({ controllers: [MixedController] })
class FeatureModule {}

const CONFIG = Symbol('config');

@Module({
  providers: [{ provide: CONFIG, useFactory: () => configHolder.options }],
  exports: [CONFIG],
})
class ConfigModule {}
const configHolder = {} as { options: VoxKeyModuleOptions };

@Injectable()
class VoxKeyConfig implements VoxKeyOptionsFactory {
  createVoxKeyOptions(): VoxKeyModuleOptions {
    return configHolder.options;
  }
}

@Module({ providers: [VoxKeyConfig], exports: [VoxKeyConfig] })
class VoxKeyConfigModule {}

describe.each(PLATFORMS)('VoxKeyModule on %s', (platform) => {
  let realm: VoxKeyTestRealm;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
    configHolder.options = realm.moduleOptions();
  });
  afterAll(async () => realm?.close());

  const expectProtected = async (app: INestApplication) => {
    const status = async (scope?: string) => {
      const req = request(app.getHttpServer()).get('/guarded');
      return (await (scope ? req.auth(realm.mint({ scope }), { type: 'bearer' }) : req)).status;
    };
    expect([await status(), await status('x'), await status('read:posts')]).toEqual([
      401, 403, 200,
    ]);
  };

  it.each([
    [
      'forRootAsync useFactory with inject',
      () =>
        VoxKeyModule.forRootAsync({
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: (o: VoxKeyModuleOptions) => o,
        }),
    ],
    ['forRootAsync useClass', () => VoxKeyModule.forRootAsync({ useClass: VoxKeyConfig })],
    [
      'forRootAsync useExisting',
      () => VoxKeyModule.forRootAsync({ imports: [VoxKeyConfigModule], useExisting: VoxKeyConfig }),
    ],
    ['forRoot', () => VoxKeyModule.forRoot(configHolder.options)],
  ])('%s registers the global guards', async (_name, dynamicModule) => {
    const app = await createApp(platform, [dynamicModule()], [ScopedController]);
    try {
      await expectProtected(app);
    } finally {
      await app.close();
    }
  });

  it.each([
    ['forRoot', () => VoxKeyModule.forRoot({ ...configHolder.options, globalGuard: false })],
    [
      'forRootAsync',
      () =>
        VoxKeyModule.forRootAsync({ globalGuard: false, useFactory: () => configHolder.options }),
    ],
  ])(
    'globalGuard: false (%s) leaves routes open unless @UseGuards(VoxKeyAuthGuard, ScopesGuard)',
    async (_name, dynamicModule) => {
      const app = await createApp(platform, [dynamicModule()], [MixedController]);
      try {
        expect((await request(app.getHttpServer()).get('/unguarded')).status).toBe(200);
        await expectProtected(app);
      } finally {
        await app.close();
      }
    },
  );

  it('is global by default: a feature module can use the guards without importing it', async () => {
    const app = await createApp(
      platform,
      [VoxKeyModule.forRoot({ ...configHolder.options, globalGuard: false }), FeatureModule],
      [],
    );
    try {
      await expectProtected(app);
    } finally {
      await app.close();
    }
  });

  it('isGlobal: false keeps the providers private to importing modules', async () => {
    const imports = [
      VoxKeyModule.forRoot({ ...configHolder.options, globalGuard: false, isGlobal: false }),
      FeatureModule,
    ];
    await expect(createApp(platform, imports, [])).rejects.toThrow(
      /resolve dependencies of the VoxKeyAuthGuard/,
    );
  });

  it('refuses a second application with VoxKeyModule while the first runs (one Passport registry per process)', async () => {
    const first = await createApp(
      platform,
      [VoxKeyModule.forRoot(configHolder.options)],
      [ScopedController],
    );
    try {
      const other = await VoxKeyTestRealm.start();
      try {
        await expect(
          createApp(platform, [VoxKeyModule.forRoot(other.moduleOptions())], [ScopedController]),
        ).rejects.toThrow("a 'voxkey-jwt' Passport strategy is already registered in this process");
      } finally {
        await other.close();
      }
      // The first application still validates with its own realm.
      await expectProtected(first);
    } finally {
      await first.close();
    }
    const second = await createApp(
      platform,
      [VoxKeyModule.forRoot(configHolder.options)],
      [ScopedController],
    );
    await expectProtected(second);
    await second.close();
  });

  it('exposes the options under VOXKEY_MODULE_OPTIONS without the extras', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [VoxKeyModule.forRoot({ ...configHolder.options, globalGuard: false })],
    }).compile();
    expect(moduleRef.get(VOXKEY_MODULE_OPTIONS)).toEqual(configHolder.options);
    await moduleRef.close();
  });

  it.each([
    [{ domain: undefined }, "'domain' is required"],
    [{ domain: 'http://voxkey.example.com' }, "'domain' must use https"],
    [{ realm: '' }, "'realm' is required"],
    [{ audience: [] }, "'audience' is required to check the 'aud' claim"],
    [{ algorithms: ['HS256'] }, "'algorithms' must not contain 'HS256'"],
    [{ algorithms: ['none'] }, "'algorithms' must not contain 'none'"],
  ])('bad options %j fail at startup naming the option', async (override, message) => {
    const imports = [
      VoxKeyModule.forRootAsync({
        useFactory: () => ({ ...configHolder.options, ...override }) as VoxKeyModuleOptions,
      }),
    ];
    await expect(createApp(platform, imports, [ScopedController])).rejects.toThrow(message);
  });
});

describe('a subclassed VoxKeyAuthGuard', () => {
  @Injectable()
  class BanningGuard extends VoxKeyAuthGuard {
    override handleRequest<T>(
      error: unknown,
      user: unknown,
      info: unknown,
      context: ExecutionContext,
    ): T {
      const claims = super.handleRequest<VoxKeyClaims>(error, user, info, context);
      if (claims.sub === 'banned') throw new ForbiddenException('banned');
      return claims as T;
    }
  }

  /** The same policy, answered asynchronously (a lookup elsewhere), as subclasses may do. */
  @Injectable()
  class AsyncBanningGuard extends VoxKeyAuthGuard {
    override handleRequest<T>(
      error: unknown,
      user: unknown,
      info: unknown,
      context: ExecutionContext,
    ): T {
      const claims = super.handleRequest<VoxKeyClaims>(error, user, info, context);
      const decided = new Promise<VoxKeyClaims>((resolve, reject) =>
        setImmediate(() =>
          claims.sub === 'banned' ? reject(new ForbiddenException('banned')) : resolve(claims),
        ),
      );
      return decided as unknown as T;
    }
  }

  @Controller()
  class BannedRoutes {
    @UseGuards(BanningGuard) @Get('guarded') guarded() {
      return { ok: true };
    }

    @UseGuards(AsyncBanningGuard) @Get('async-guarded') asyncGuarded(
      @VoxKeyUser() user: VoxKeyClaims,
    ) {
      return { sub: user.sub };
    }
  }

  let realm: VoxKeyTestRealm;
  let app: INestApplication;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
    app = await createApp(
      'express',
      [VoxKeyModule.forRoot({ ...realm.moduleOptions(), globalGuard: false })],
      [BannedRoutes],
    );
  });
  afterAll(async () => {
    await app?.close();
    await realm?.close();
  });

  it('an asynchronous handleRequest is awaited on a cache hit as on a miss (a refusal never passes, the user is never a promise)', async () => {
    const get = (token: string) =>
      request(app.getHttpServer()).get('/async-guarded').set('Authorization', `Bearer ${token}`);
    const banned = realm.mint({ subject: 'banned' });
    expect((await get(banned)).status).toBe(403);
    expect((await get(banned)).status).toBe(403);
    const allowed = realm.mint({ subject: 'alice' });
    expect((await get(allowed)).body).toEqual({ sub: 'alice' });
    expect((await get(allowed)).body).toEqual({ sub: 'alice' }); // the hit
  });

  it('its handleRequest policy applies to cached tokens too (never 403 then 200)', async () => {
    const token = realm.mint({ subject: 'banned' });
    const get = () =>
      request(app.getHttpServer()).get('/guarded').set('Authorization', `Bearer ${token}`);
    expect((await get()).status).toBe(403);
    expect((await get()).status).toBe(403);
    expect(
      (
        await request(app.getHttpServer())
          .get('/guarded')
          .set('Authorization', `Bearer ${realm.mint()}`)
      ).status,
    ).toBe(200);
  });
});
