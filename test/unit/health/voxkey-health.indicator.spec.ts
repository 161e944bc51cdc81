import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { VoxKeyHealthIndicator, VoxKeyModule } from '../../../lib/index';
import { RealmRegistry } from '../../../lib/realm/realm.registry';
import { CaptureLogger } from '../../support/capture-logger';

const UUID = '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a';

describe('VoxKeyHealthIndicator', () => {
  let moduleRef: TestingModule;
  const logger = new CaptureLogger();
  beforeAll(async () => {
    // Compiled, not initialised: no pre-warm, no request anywhere.
    moduleRef = await Test.createTestingModule({
      imports: [
        VoxKeyModule.forRoot({
          domain: 'https://id.example.com',
          realm: UUID,
          audience: 'https://api.example.com',
        }),
      ],
    }).compile();
    Logger.overrideLogger(logger);
  });
  afterAll(async () => {
    await moduleRef.close();
    Logger.overrideLogger(false);
  });

  it('reports under the key it is given, and under voxkey by default', async () => {
    const indicator = moduleRef.get(VoxKeyHealthIndicator);
    expect(Object.keys(await indicator.isHealthy())).toEqual(['voxkey']);
    const named = await indicator.isHealthy('auth');
    expect(Object.keys(named)).toEqual(['auth']);
    expect(named.auth.status).toBe('down');
    expect(named.auth.realms?.default.keySet?.url).toBe(
      `https://id.example.com/oauth2/${UUID}/oidc/jwks`,
    );
  });

  it('never throws: a failure of its own is a down report, logged without details', async () => {
    const all = jest.spyOn(RealmRegistry.prototype, 'all').mockImplementation(() => {
      throw new TypeError('boom at https://secret.example/?token=x');
    });
    try {
      await expect(moduleRef.get(VoxKeyHealthIndicator).isHealthy()).resolves.toEqual({
        voxkey: { status: 'down', message: 'the VoxKey health check failed' },
      });
      const lines = logger.lines.filter((line) => line.includes('Health check failed'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^error Health check failed: TypeError\b/);
      expect(lines[0]).not.toMatch(/boom|secret|token/);
    } finally {
      all.mockRestore();
    }
  });
});
