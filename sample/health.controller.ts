import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { Public, VoxKeyHealthIndicator, type VoxKeyHealthResult } from '@voxkey/nestjs';

@Controller('health')
export class HealthController {
  constructor(private readonly voxkey: VoxKeyHealthIndicator) {}

  /** Liveness: open to everyone, always up while the process answers. */
  @Public()
  @Get()
  health(): { status: string } {
    return { status: 'ok' };
  }

  /**
   * Readiness: 200 once the realm's key set is loaded (the pre-warm does it at start-up), else
   * 503. Reads cached state only, so probes never call the realm.
   */
  @Public()
  @Get('ready')
  async ready(): Promise<VoxKeyHealthResult<'voxkey'>> {
    const result = await this.voxkey.isHealthy('voxkey');
    if (result.voxkey.status !== 'up') throw new ServiceUnavailableException(result);
    return result;
  }
}
