import { Injectable } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, MetadataScanner, Reflector } from '@nestjs/core';
import { VoxKeyAuthGuard } from '../guards/voxkey-auth.guard.js';
import type { VoxKeyAuditFinding } from '../interfaces/route-audit.interface.js';
import { nestMajor } from '../utils/nest-version.util.js';
import { authModeOf } from '../utils/route-metadata.util.js';
import { type DiscoveredHandler, discoveredHandlers } from './discovered-handlers.util.js';
import { declaresGuard } from './guard-coverage.util.js';
import { GATEWAY, MESSAGE_HANDLER, MESSAGE_PATTERN } from './nest-metadata.constants.js';

/**
 * Finds the handlers NestJS itself would leave outside the global guards, where the platform
 * fails open: `@SubscribeMessage` handlers on NestJS 11 (its gateways ignore `APP_GUARD`), and
 * microservice handlers of a hybrid application (reached only with
 * `connectMicroservice(options, { inheritAppConfig: true })`): each one that is neither
 * `@Public()` nor guarded by `VoxKeyAuthGuard` itself. `VoxKeyRouteAudit` reports them with its
 * own findings, as `audit.mode` says.
 */
@Injectable()
export class HandlerAudit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** One finding per handler left unguarded, naming it and the fix. */
  findings(): VoxKeyAuditFinding[] {
    const findings: VoxKeyAuditFinding[] = [];
    const wrappers = [...this.discovery.getControllers(), ...this.discovery.getProviders()];
    for (const found of discoveredHandlers(wrappers, this.scanner)) {
      const { cls, name, handler } = found;
      const outside = this.outsideGlobalGuards(found);
      if (outside === undefined || this.isPublic(handler, cls)) continue;
      if (declaresGuard(this.reflector, handler, cls, VoxKeyAuthGuard)) continue;
      const where = `${cls.name}.${name}`;
      findings.push(
        outside === 'gateway'
          ? {
              handler: where,
              rule: outside,
              message: `${where} (@SubscribeMessage): NestJS ${this.nestMajor() ?? '(version unknown)'} does not apply global guards to gateways; add @UseGuards(VoxKeyAuthGuard, ScopesGuard) to the gateway, or @Public()`,
            }
          : {
              handler: where,
              rule: outside,
              message: `${where} (microservice handler): in a hybrid application global guards reach it only with app.connectMicroservice(options, { inheritAppConfig: true }); connect it so and add @UseGuards(VoxKeyAuthGuard, ScopesGuard) to silence this, or list it in audit.ignore`,
            },
      );
    }
    return findings;
  }

  /**
   * Whether NestJS keeps the global guards from a handler: `'gateway'` for a `@SubscribeMessage`
   * handler on NestJS 11 (or an unknown version), `'hybrid-microservice'` for a microservice
   * handler of an application that also serves HTTP; undefined when they reach it.
   */
  outsideGlobalGuards({
    cls,
    handler,
  }: DiscoveredHandler): 'gateway' | 'hybrid-microservice' | undefined {
    const major = this.nestMajor();
    if (
      this.reflector.get<unknown>(GATEWAY, cls) === true &&
      this.reflector.get<unknown>(MESSAGE_HANDLER, handler) === true
    ) {
      return major === undefined || major <= 11 ? 'gateway' : undefined;
    }
    const pattern = this.reflector.get<unknown>(MESSAGE_PATTERN, handler) !== undefined;
    return pattern && this.adapterHost.httpAdapter !== undefined
      ? 'hybrid-microservice'
      : undefined;
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
