import { Controller, type INestApplication, Injectable, UseGuards } from '@nestjs/common';
import { MessagePattern, Transport } from '@nestjs/microservices';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import { HandlerAudit } from '../../lib/audit/handler.audit';
import { Public, VoxKeyAuthGuard, VoxKeyModule, type VoxKeyModuleOptions } from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { CaptureLogger } from '../support/capture-logger';

@Controller()
class OrdersRpc {
  @MessagePattern('orders.list') list() {
    return [];
  }
  @Public() @MessagePattern('orders.health') health() {
    return 'ok';
  }
}

@Controller()
@UseGuards(VoxKeyAuthGuard)
class GuardedRpc {
  @MessagePattern('orders.create') create() {
    return 1;
  }
}

@Injectable()
@WebSocketGateway({ path: '/never-listened' })
class ChatGateway {
  @SubscribeMessage('say') say() {
    return 'ok';
  }
}

describe('the start-up audit of handlers NestJS leaves outside global guards', () => {
  let realm: VoxKeyTestRealm;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
  });
  afterAll(async () => {
    await realm?.close();
  });

  async function boot(
    options: Partial<VoxKeyModuleOptions>,
    {
      hybrid = true,
      controllers = [OrdersRpc, GuardedRpc] as unknown[],
      providers = [] as unknown[],
    } = {},
  ): Promise<{ app: INestApplication; logger: CaptureLogger }> {
    const logger = new CaptureLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [VoxKeyModule.forRoot(realm.moduleOptions(options))],
      controllers: controllers as never[],
      providers: providers as never[],
    }).compile();
    const app = moduleRef.createNestApplication({ logger });
    if (hybrid)
      app.connectMicroservice({
        transport: Transport.TCP,
        options: { host: '127.0.0.1', port: 0 },
      });
    try {
      await app.init();
    } catch (error) {
      await app.close();
      throw error;
    }
    return { app, logger };
  }

  it('a hybrid application: each unguarded microservice handler is named with the fix', async () => {
    const { app, logger } = await boot({});
    try {
      const warnings = logger.lines
        .filter((line) => line.startsWith('warn '))
        .filter((line) => line.includes('microservice handler'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('OrdersRpc.list');
      expect(warnings[0]).toContain('inheritAppConfig: true');
    } finally {
      await app.close();
    }
  });

  it("audit: 'strict' stops the application instead", async () => {
    await expect(boot({ audit: 'strict' })).rejects.toThrow(/OrdersRpc\.list/);
  });

  it("audit: 'off' says nothing", async () => {
    const { app, logger } = await boot({ audit: 'off' });
    try {
      expect(logger.lines.filter((line) => line.includes('VoxKeyAudit'))).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('a standalone microservice is not a hybrid: its global guards apply, nothing is reported', async () => {
    const logger = new CaptureLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [VoxKeyModule.forRoot(realm.moduleOptions())],
      controllers: [OrdersRpc],
    }).compile();
    const service = moduleRef.createNestMicroservice({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: 0 },
      logger,
    });
    try {
      await service.init();
      // The route audit's summary, once, and no finding.
      expect(
        logger.lines.filter((line) => line.includes('VoxKeyAudit') && !line.startsWith('debug ')),
      ).toEqual([
        'log VoxKey routes: 2 — 1 public, 0 optional, 0 scoped, 1 any-token, 0 unguarded; 0 findings VoxKeyAudit',
      ]);
    } finally {
      await service.close();
    }
  });

  it('gateways: reported on NestJS 11 (global guards never reach them), not on NestJS 12', async () => {
    const major = jest.spyOn(
      HandlerAudit.prototype as unknown as { nestMajor(): number },
      'nestMajor',
    );
    try {
      for (const [version, expected] of [
        [11, 1],
        [12, 0],
      ]) {
        major.mockReturnValue(version);
        const { app, logger } = await boot(
          {},
          { hybrid: false, controllers: [], providers: [ChatGateway] },
        );
        try {
          const warnings = logger.lines
            .filter((line) => line.startsWith('warn '))
            .filter((l) => l.includes('ChatGateway.say'));
          expect(warnings).toHaveLength(expected);
        } finally {
          await app.close();
        }
      }
    } finally {
      major.mockRestore();
    }
  });
});
