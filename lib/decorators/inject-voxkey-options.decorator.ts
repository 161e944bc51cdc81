import { Inject } from '@nestjs/common';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';

/**
 * Injects the module's validated options (`ResolvedVoxKeyOptions`): for a subclass of
 * `VoxKeyAuthGuard` or `ScopesGuard` that adds a dependency and so declares its own constructor.
 *
 * @example
 * @Injectable()
 * export class AuditedAuthGuard extends VoxKeyAuthGuard {
 *   constructor(
 *     reflector: Reflector,
 *     @InjectVoxKeyOptions() options: ResolvedVoxKeyOptions,
 *     private readonly audit: AuditLog,
 *   ) {
 *     super(reflector, options);
 *   }
 * }
 * @publicApi
 */
export const InjectVoxKeyOptions = (): PropertyDecorator & ParameterDecorator =>
  Inject(VOXKEY_RESOLVED_OPTIONS);
