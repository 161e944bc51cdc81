import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, MetadataScanner, Reflector } from '@nestjs/core';
import { InjectVoxKeyOptions } from '../decorators/inject-voxkey-options.decorator.js';
import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import { VoxKeyAuthGuard } from '../guards/voxkey-auth.guard.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { nestMajor } from '../utils/nest-version.util.js';
import { authModeOf } from '../utils/route-metadata.util.js';
import { discoveredHandlers } from './discovered-handlers.util.js';
import { declaresGuard } from './guard-coverage.util.js';
import { GATEWAY, MESSAGE_HANDLER, MESSAGE_PATTERN } from './nest-metadata.constants.js';

/**
 * At start-up, finds the handlers NestJS itself would leave outside the global guards, where
 * the platform fails open: `@SubscribeMessage` handlers on NestJS 11 (its gateways ignore
 * `APP_GUARD`), and microservice handlers of a hybrid application (reached only with
 * `connectMicroservice(options, { inheritAppConfig: true })`). Each one that is neither
 * `@Public()` nor guarded by `VoxKeyAuthGuard` itself is logged with the fix (`audit: 'warn'`),
 * or stops the application (`audit: 'strict'`); `audit.ignore` leaves handlers out.
 */
@Injectable()
export class HandlerAudit implements OnApplicationBootstrap {
  private readonly logger = new Logger('VoxKeyAudit');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
    @InjectVoxKeyOptions() private readonly options: ResolvedVoxKeyOptions,
  ) {}

  onApplicationBootstrap(): void {
    const { mode, ignore } = this.options.audit;
    if (mode === 'off') return;
    const findings = this.findings().filter(
      (finding) =>
        !ignore.some((name) => finding.startsWith(`${name}.`) || finding.startsWith(`${name} `)),
    );
    if (findings.length === 0) return;
    if (mode === 'strict') {
      throw new VoxKeyConfigError(`handlers outside VoxKey's guards: ${findings.join('; ')}`);
    }
    for (const finding of findings) this.logger.warn(finding);
  }

  /** One line per handler left unguarded, naming it and the fix. */
  findings(): string[] {
    const major = this.nestMajor();
    const hybrid = this.adapterHost.httpAdapter !== undefined;
    const findings: string[] = [];
    const wrappers = [...this.discovery.getControllers(), ...this.discovery.getProviders()];
    for (const { cls, name, handler } of discoveredHandlers(wrappers, this.scanner)) {
      const gateway = this.reflector.get<unknown>(GATEWAY, cls) === true;
      const message = gateway && this.reflector.get<unknown>(MESSAGE_HANDLER, handler) === true;
      const pattern = this.reflector.get<unknown>(MESSAGE_PATTERN, handler) !== undefined;
      if (!message && !pattern) continue;
      if (this.isPublic(handler, cls)) continue;
      if (declaresGuard(this.reflector, handler, cls, VoxKeyAuthGuard)) continue;
      const where = `${cls.name}.${name}`;
      if (message && (major === undefined || major <= 11)) {
        findings.push(
          `${where} (@SubscribeMessage): NestJS ${major ?? '(version unknown)'} does not apply global guards to gateways; add @UseGuards(VoxKeyAuthGuard, ScopesGuard) to the gateway, or @Public()`,
        );
      }
      if (pattern && hybrid) {
        findings.push(
          `${where} (microservice handler): in a hybrid application global guards reach it only with app.connectMicroservice(options, { inheritAppConfig: true }); connect it so and add @UseGuards(VoxKeyAuthGuard, ScopesGuard) to silence this, or set audit: 'off'`,
        );
      }
    }
    return findings;
  }

  /** The NestJS major version (undefined when unknown: then gateways are reported, to fail closed). */
  protected nestMajor(): number | undefined {
    return nestMajor();
  }

  /** `@Public()` (not `@OptionalAuth()`, which needs the guards to read a token). */
  private isPublic(handler: () => unknown, cls: () => unknown): boolean {
    return authModeOf(this.reflector, [handler, cls])?.mode === 'public';
  }
}
