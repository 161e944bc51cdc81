import {
  Controller,
  Delete,
  Get,
  type INestApplication,
  Post,
  type Type,
  UseGuards,
  Version,
  VERSION_NEUTRAL,
  VersioningType,
} from '@nestjs/common';
import { Field, ObjectType, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import { HandlerAudit } from '../../lib/audit/handler.audit';
import {
  AnyScope,
  OptionalAuth,
  Public,
  Realm,
  RealmFromParam,
  RequireActiveToken,
  Resource,
  Scopes,
  ScopesGuard,
  VoxKeyAuthGuard,
  VoxKeyModule,
  type VoxKeyModuleOptions,
  type VoxKeyRoute,
  VoxKeyRouteAudit,
} from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { PLATFORMS, type Platform } from '../support/app';
import { CaptureLogger } from '../support/capture-logger';
import { graphqlModule } from '../support/graphql-app';

const MCP = 'https://api.example.test/mcp';

// ---- An application with every kind of route and no mistake ----

@Controller('posts')
@Scopes('read:posts')
class PostsController {
  @Get() list() {}
  @Scopes('write:posts') @Post() create() {}
  @RequireActiveToken() @Version(['1', '2']) @Get(':id') get() {}
  @Public() @Get('feed') feed() {}
}

@Controller({ path: 'tenants/:tenant', version: VERSION_NEUTRAL })
@RealmFromParam('tenant')
class TenantsController {
  @OptionalAuth() @Get(['catalog', 'shop']) catalog() {}
  @AnyScope('admin', 'owner') @Delete() remove() {}
}

@Controller('mcp')
@Resource(MCP)
class McpController {
  @Realm('default') @Post() handle() {}
}

@Controller()
@UseGuards(VoxKeyAuthGuard, ScopesGuard)
class SyncRpc {
  @Scopes('sync') @MessagePattern({ cmd: 'sync' }) sync() {}
  @Public() @EventPattern('posts.created') created(_data: unknown) {}
}

@ObjectType()
class Note {
  @Field() id!: string;
}

@Resolver(() => Note)
class NotesResolver {
  @Scopes('read:notes') @Query(() => [Note]) notes(): Note[] {
    return [];
  }
  @Public() @Query(() => [Note], { name: 'publicNotes' }) open(): Note[] {
    return [];
  }
  @ResolveField(() => String) owner(): string {
    return '';
  }
}

@WebSocketGateway()
class ChatGateway {
  @Scopes('chat') @SubscribeMessage('chat.say') say() {}
  @Public() @SubscribeMessage('ping') ping() {}
}

// ---- Mistakes ----

/** Two scoped handlers and one that takes any token. */
@Controller('reports')
class ReportsController {
  @Scopes('read:reports') @Get() list() {}
  @Scopes('write:reports') @Post() create() {}
  @Public() @Get('health') health() {}
  @Get('summary') summary() {}
}

/** A microservice handler of a hybrid application, without guards of its own. */
@Controller()
class OrdersRpc {
  @MessagePattern('orders.list') list() {}
}

/** With `globalGuard: false`: no guard at all, and the auth guard without `ScopesGuard`. */
@Controller('legacy')
class LegacyController {
  @Get() list() {}
  @Public() @Get('health') health() {}
}

@Controller('items')
@UseGuards(VoxKeyAuthGuard)
class ItemsController {
  @Scopes('read:items') @Get() list() {}
}

/** Fine without `requireScopes`. */
@Controller('profile')
class ProfileController {
  @Get('me') me() {}
  @Public() @Get('avatar') avatar() {}
}

/** `@Public()` on a class whose handler asks for scopes: the route-mode audit's rule. */
@Public()
@Controller('open')
class OpenController {
  @Scopes('admin') @Get() admin() {}
}

const summaryOf = (logger: CaptureLogger) =>
  logger.lines.filter((line) => line.startsWith('log VoxKey routes:'));
const warningsOf = (logger: CaptureLogger) =>
  logger.lines.filter((line) => line.startsWith('warn ') && line.endsWith(' VoxKeyAudit'));

describe('the start-up route audit', () => {
  let realm: VoxKeyTestRealm;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
  });
  afterAll(async () => {
    await realm?.close();
  });

  async function boot(
    options: Partial<VoxKeyModuleOptions>,
    controllers: Type[],
    {
      platform = 'express' as Platform,
      providers = [] as Type[],
      graphql = false,
      globalGuard = true,
    } = {},
  ): Promise<{ app: INestApplication; logger: CaptureLogger }> {
    const logger = new CaptureLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [
        VoxKeyModule.forRoot({ ...realm.moduleOptions(options), globalGuard }),
        ...(graphql
          ? [graphqlModule(platform === 'express' ? 'apollo-express' : 'apollo-fastify')]
          : []),
      ],
      controllers,
      providers,
    }).compile();
    const app = moduleRef.createNestApplication(
      platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
      { logger },
    );
    app.setGlobalPrefix('api');
    app.enableVersioning({ type: VersioningType.URI });
    try {
      await app.init();
    } catch (error) {
      await app.close();
      throw error;
    }
    return { app, logger };
  }

  describe.each(PLATFORMS)('an application without mistakes, on %s', (platform) => {
    let app: INestApplication;
    let logger: CaptureLogger;
    beforeAll(async () => {
      ({ app, logger } = await boot(
        {
          audience: undefined,
          resources: [{ resource: MCP }, { resource: 'https://api.example.test' }],
        },
        [PostsController, TenantsController, McpController, SyncRpc],
        { platform, providers: [NotesResolver, ChatGateway], graphql: true },
      ));
    });
    afterAll(async () => {
      await app?.close();
    });

    it('lists every route with its decision, in a stable order (path templates, no prefix or version)', () => {
      const none = { scopes: [], anyOf: [], requireActive: false };
      const tenant = { param: 'tenant' };
      const expected: VoxKeyRoute[] = [
        {
          handler: 'McpController.handle',
          context: 'http',
          route: 'POST /mcp',
          access: 'any-token',
          ...none,
          realm: { ids: ['default'] },
          resource: MCP,
        },
        {
          handler: 'PostsController.list',
          context: 'http',
          route: 'GET /posts',
          access: 'scoped',
          ...none,
          scopes: ['read:posts'],
        },
        {
          handler: 'PostsController.create',
          context: 'http',
          route: 'POST /posts',
          access: 'scoped',
          ...none,
          scopes: ['read:posts', 'write:posts'],
        },
        {
          handler: 'PostsController.get',
          context: 'http',
          route: 'GET /posts/:id',
          access: 'scoped',
          scopes: ['read:posts'],
          anyOf: [],
          requireActive: true,
          version: ['1', '2'],
        },
        {
          handler: 'PostsController.feed',
          context: 'http',
          route: 'GET /posts/feed',
          access: 'public',
          ...none,
        },
        {
          handler: 'TenantsController.remove',
          context: 'http',
          route: 'DELETE /tenants/:tenant',
          access: 'scoped',
          scopes: [],
          anyOf: [['admin', 'owner']],
          requireActive: false,
          realm: tenant,
          version: 'neutral',
        },
        {
          handler: 'TenantsController.catalog',
          context: 'http',
          route: 'GET /tenants/:tenant/catalog',
          access: 'optional',
          ...none,
          realm: tenant,
          version: 'neutral',
        },
        {
          handler: 'TenantsController.catalog',
          context: 'http',
          route: 'GET /tenants/:tenant/shop',
          access: 'optional',
          ...none,
          realm: tenant,
          version: 'neutral',
        },
        {
          handler: 'NotesResolver.owner',
          context: 'graphql',
          route: 'Note.owner',
          access: 'via-parent',
          ...none,
        },
        {
          handler: 'NotesResolver.notes',
          context: 'graphql',
          route: 'Query.notes',
          access: 'scoped',
          ...none,
          scopes: ['read:notes'],
        },
        {
          handler: 'NotesResolver.open',
          context: 'graphql',
          route: 'Query.publicNotes',
          access: 'public',
          ...none,
        },
        {
          handler: 'ChatGateway.say',
          context: 'ws',
          route: 'message chat.say',
          access: 'scoped',
          ...none,
          scopes: ['chat'],
        },
        {
          handler: 'ChatGateway.ping',
          context: 'ws',
          route: 'message ping',
          access: 'public',
          ...none,
        },
        {
          handler: 'SyncRpc.created',
          context: 'rpc',
          route: 'event posts.created',
          access: 'public',
          ...none,
        },
        {
          handler: 'SyncRpc.sync',
          context: 'rpc',
          route: 'message {"cmd":"sync"}',
          access: 'scoped',
          ...none,
          scopes: ['sync'],
        },
      ];
      expect(app.get(VoxKeyRouteAudit).routes()).toEqual(expected);
      expect(app.get(VoxKeyRouteAudit).findings()).toEqual([]);
    });

    it('logs the one-line summary, and no warning', () => {
      expect(summaryOf(logger)).toEqual([
        'log VoxKey routes: 15 — 4 public, 2 optional, 7 scoped, 1 any-token, 0 unguarded, 1 via-parent; 0 findings VoxKeyAudit',
      ]);
      expect(warningsOf(logger)).toEqual([]);
    });

    it('logs each route at debug level', () => {
      const debug = logger.lines.filter(
        (line) => line.startsWith('debug ') && line.endsWith(' VoxKeyAudit'),
      );
      expect(debug).toHaveLength(15);
      expect(debug).toContain(
        'debug GET /posts/:id PostsController.get: scopes [read:posts]; active token; version 1, 2 VoxKeyAudit',
      );
      expect(debug).toContain(
        `debug POST /mcp McpController.handle: any-token; realm default; resource ${MCP} VoxKeyAudit`,
      );
      expect(debug).toContain(
        'debug DELETE /tenants/:tenant TenantsController.remove: any of [admin, owner]; realm from :tenant; version neutral VoxKeyAudit',
      );
    });
  });

  describe("audit: 'warn' (the default)", () => {
    it('a handler taking any token among scoped ones, and a hybrid microservice handler: one line each, with the fix', async () => {
      const { app, logger } = await boot({}, [ReportsController, OrdersRpc]);
      try {
        expect(summaryOf(logger)).toEqual([
          'log VoxKey routes: 5 — 1 public, 0 optional, 2 scoped, 1 any-token, 1 unguarded; 2 findings VoxKeyAudit',
        ]);
        expect(warningsOf(logger)).toEqual([
          'warn ReportsController.summary (GET /reports/summary): it accepts any valid token while every other handler of ReportsController requires scopes; add @Scopes(...) or @AnyScope(...), or list it in audit.ignore if any token will do VoxKeyAudit',
          'warn OrdersRpc.list (microservice handler): in a hybrid application global guards reach it only with app.connectMicroservice(options, { inheritAppConfig: true }); connect it so and add @UseGuards(VoxKeyAuthGuard, ScopesGuard) to silence this, or list it in audit.ignore VoxKeyAudit',
        ]);
        expect(
          app
            .get(VoxKeyRouteAudit)
            .findings()
            .map(({ handler, rule }) => [handler, rule]),
        ).toEqual([
          ['ReportsController.summary', 'any-token-among-scoped'],
          ['OrdersRpc.list', 'hybrid-microservice'],
        ]);
      } finally {
        await app.close();
      }
    });

    it('globalGuard: false: a handler no guard reaches, and scopes ScopesGuard never checks', async () => {
      const { app, logger } = await boot({}, [LegacyController, ItemsController], {
        globalGuard: false,
      });
      try {
        expect(summaryOf(logger)).toEqual([
          'log VoxKey routes: 3 — 1 public, 0 optional, 0 scoped, 1 any-token, 1 unguarded; 2 findings VoxKeyAudit',
        ]);
        expect(warningsOf(logger)).toEqual([
          'warn ItemsController.list (GET /items): it declares scopes but ScopesGuard does not run on it, so any valid token passes; add ScopesGuard after VoxKeyAuthGuard: @UseGuards(VoxKeyAuthGuard, ScopesGuard) VoxKeyAudit',
          'warn LegacyController.list (GET /legacy): no VoxKeyAuthGuard reaches it (globalGuard: false, and none in @UseGuards() on it or its class), so nothing checks its calls; add @UseGuards(VoxKeyAuthGuard, ScopesGuard) to LegacyController, or @Public() if it is meant to be open VoxKeyAudit',
        ]);
      } finally {
        await app.close();
      }
    });

    it('requireScopes: every handler taking any token is a finding; audit.ignore leaves one out, still listed', async () => {
      const strict = await boot({ audit: { mode: 'warn', requireScopes: true } }, [
        ProfileController,
      ]);
      try {
        expect(warningsOf(strict.logger)).toEqual([
          'warn ProfileController.me (GET /profile/me): it accepts any valid token, and audit.requireScopes is set; add @Scopes(...) or @AnyScope(...), @Public() if it is meant to be open, or list it in audit.ignore VoxKeyAudit',
        ]);
      } finally {
        await strict.app.close();
      }
      const ignored = await boot(
        { audit: { requireScopes: true, ignore: ['ProfileController.me'] } },
        [ProfileController],
      );
      try {
        expect(warningsOf(ignored.logger)).toEqual([]);
        expect(
          ignored.app
            .get(VoxKeyRouteAudit)
            .routes()
            .map((route) => [route.handler, route.access]),
        ).toEqual([
          ['ProfileController.avatar', 'public'],
          ['ProfileController.me', 'any-token'],
        ]);
      } finally {
        await ignored.app.close();
      }
      // Without requireScopes the same controller is fine.
      const plain = await boot({}, [ProfileController]);
      try {
        expect(warningsOf(plain.logger)).toEqual([]);
      } finally {
        await plain.app.close();
      }
    });

    it("a NestJS 11 gateway without guards: HandlerAudit's finding, reported once, the handler unguarded", async () => {
      const major = jest
        .spyOn(HandlerAudit.prototype as unknown as { nestMajor(): number }, 'nestMajor')
        .mockReturnValue(11);
      try {
        const { app, logger } = await boot({}, [], { providers: [ChatGateway] });
        try {
          expect(warningsOf(logger)).toEqual([
            'warn ChatGateway.say (@SubscribeMessage): NestJS 11 does not apply global guards to gateways; add @UseGuards(VoxKeyAuthGuard, ScopesGuard) to the gateway, or @Public() VoxKeyAudit',
          ]);
          expect(
            app
              .get(VoxKeyRouteAudit)
              .routes()
              .map((route) => [route.handler, route.access]),
          ).toEqual([
            ['ChatGateway.say', 'unguarded'],
            ['ChatGateway.ping', 'public'],
          ]);
        } finally {
          await app.close();
        }
      } finally {
        major.mockRestore();
      }
    });
  });

  it('a context turned off in contexts: its handlers that need a token are denied, counted in the summary', async () => {
    const { app, logger } = await boot({ contexts: { rpc: false } }, [SyncRpc]);
    try {
      expect(
        app
          .get(VoxKeyRouteAudit)
          .routes()
          .map((route) => [route.handler, route.access]),
      ).toEqual([
        ['SyncRpc.created', 'public'],
        ['SyncRpc.sync', 'denied'],
      ]);
      expect(summaryOf(logger)).toEqual([
        'log VoxKey routes: 2 — 1 public, 0 optional, 0 scoped, 0 any-token, 0 unguarded, 1 denied; 0 findings VoxKeyAudit',
      ]);
    } finally {
      await app.close();
    }
  });

  describe("audit: 'strict'", () => {
    it('stops the application, naming each Controller.method with its fix', async () => {
      await expect(boot({ audit: 'strict' }, [ReportsController, OrdersRpc])).rejects.toMatchObject(
        {
          message:
            "VoxKeyModule: the route audit (audit.mode 'strict') found 2 probable mistake(s): " +
            'ReportsController.summary (GET /reports/summary): it accepts any valid token while every other handler of ReportsController requires scopes; add @Scopes(...) or @AnyScope(...), or list it in audit.ignore if any token will do; ' +
            'OrdersRpc.list (microservice handler): in a hybrid application global guards reach it only with app.connectMicroservice(options, { inheritAppConfig: true }); connect it so and add @UseGuards(VoxKeyAuthGuard, ScopesGuard) to silence this, or list it in audit.ignore',
        },
      );
    });

    it('globalGuard: false: the unguarded handler and the unchecked scopes stop it', async () => {
      await expect(
        boot({ audit: { mode: 'strict' } }, [LegacyController, ItemsController], {
          globalGuard: false,
        }),
      ).rejects.toMatchObject({
        message:
          "VoxKeyModule: the route audit (audit.mode 'strict') found 2 probable mistake(s): " +
          'ItemsController.list (GET /items): it declares scopes but ScopesGuard does not run on it, so any valid token passes; add ScopesGuard after VoxKeyAuthGuard: @UseGuards(VoxKeyAuthGuard, ScopesGuard); ' +
          'LegacyController.list (GET /legacy): no VoxKeyAuthGuard reaches it (globalGuard: false, and none in @UseGuards() on it or its class), so nothing checks its calls; add @UseGuards(VoxKeyAuthGuard, ScopesGuard) to LegacyController, or @Public() if it is meant to be open',
      });
    });

    it('requireScopes: a handler taking any token stops it', async () => {
      await expect(
        boot({ audit: { mode: 'strict', requireScopes: true } }, [ProfileController]),
      ).rejects.toMatchObject({
        message:
          "VoxKeyModule: the route audit (audit.mode 'strict') found 1 probable mistake(s): " +
          'ProfileController.me (GET /profile/me): it accepts any valid token, and audit.requireScopes is set; add @Scopes(...) or @AnyScope(...), @Public() if it is meant to be open, or list it in audit.ignore',
      });
    });

    it('an application without mistakes starts, with the summary', async () => {
      const { app, logger } = await boot({ audit: 'strict' }, [PostsController]);
      try {
        expect(summaryOf(logger)).toEqual([
          'log VoxKey routes: 4 — 1 public, 0 optional, 3 scoped, 0 any-token, 0 unguarded; 0 findings VoxKeyAudit',
        ]);
      } finally {
        await app.close();
      }
    });
  });

  it('lists two controllers of the same name (and path) as two routes, so an unguarded one is not hidden', async () => {
    const guardedItems = (() => {
      @Controller({ path: 'items', host: 'public.example.test' })
      @UseGuards(VoxKeyAuthGuard)
      class ItemsController {
        @Get()
        list(): string[] {
          return [];
        }
      }
      return ItemsController;
    })();
    const openItems = (() => {
      @Controller({ path: 'items', host: 'admin.example.test' })
      class ItemsController {
        @Get()
        list(): string[] {
          return [];
        }
      }
      return ItemsController;
    })();
    const { app } = await boot({}, [guardedItems, openItems], { globalGuard: false });
    try {
      const audit = app.get(VoxKeyRouteAudit);
      expect(audit.routes().map((route) => [route.handler, route.access])).toEqual(
        expect.arrayContaining([
          ['ItemsController.list', 'any-token'],
          ['ItemsController.list', 'unguarded'],
        ]),
      );
      expect(audit.findings().map((finding) => finding.rule)).toContain('unguarded');
    } finally {
      await app.close();
    }
  });

  it("audit: 'off' says nothing, even about mistakes; the list is still there", async () => {
    const { app, logger } = await boot({ audit: { mode: 'off' } }, [ReportsController, OrdersRpc]);
    try {
      expect(logger.lines.filter((line) => line.includes('VoxKeyAudit'))).toEqual([]);
      expect(app.get(VoxKeyRouteAudit).routes()).toHaveLength(5);
      expect(app.get(VoxKeyRouteAudit).findings()).toHaveLength(2);
    } finally {
      await app.close();
    }
  });

  it.each(['warn', 'off'] as const)(
    "@Public() on a controller whose handler declares scopes stays the route-mode audit's: the app stops even with audit: '%s'",
    async (mode) => {
      await expect(boot({ audit: mode }, [OpenController])).rejects.toThrow(
        'scope or active-token requirements on handlers that do not require a token, which the guards would never apply: OpenController.admin (@Public() with @Scopes())',
      );
    },
  );
});
