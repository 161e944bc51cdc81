import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public, VoxKeyHealthIndicator } from '../../lib/index';

/** A readiness route as the README shows it, on Terminus 12 (a devDependency). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly voxkey: VoxKeyHealthIndicator,
  ) {}

  @Get('ready')
  @Public()
  @HealthCheck()
  ready() {
    return this.health.check([() => this.voxkey.isHealthy('voxkey')]);
  }
}
