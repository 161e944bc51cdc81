// The README's readiness controller ("Health and start-up"), verbatim, compiled against Terminus 11.
import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public, VoxKeyHealthIndicator } from '@voxkey/nestjs';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly voxkey: VoxKeyHealthIndicator,
  ) {}

  /** Readiness: take the instance out of the load balancer while it cannot verify tokens. */
  @Get('ready')
  @Public() // probes carry no token
  @HealthCheck()
  ready() {
    return this.health.check([() => this.voxkey.isHealthy('voxkey')]);
  }

  /** Liveness: the process answers. Nothing about the realm belongs here. */
  @Get('live')
  @Public()
  live() {
    return { status: 'ok' };
  }
}
