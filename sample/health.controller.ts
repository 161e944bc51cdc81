import { Controller, Get } from '@nestjs/common';
import { Public } from '@voxkey/nestjs';

@Controller('health')
export class HealthController {
  /** Open to everyone. */
  @Public()
  @Get()
  health(): { status: string } {
    return { status: 'ok' };
  }
}
