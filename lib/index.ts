export { VoxKeyModule } from './voxkey.module.js';
export { VOXKEY_MODULE_OPTIONS, VOXKEY_STRATEGY } from './voxkey.constants.js';
export { getVoxKeyEndpoints, type VoxKeyEndpoints } from './voxkey-endpoints.js';
export type {
  VoxKeyAlgorithm,
  VoxKeyJwksOptions,
  VoxKeyModuleExtras,
  VoxKeyModuleOptions,
  VoxKeyOptionsFactory,
} from './interfaces/voxkey-module-options.interface.js';
export type { VoxKeyClaims } from './interfaces/voxkey-claims.interface.js';

export { Public } from './decorators/public.decorator.js';
export { Scopes } from './decorators/scopes.decorator.js';
export { AnyScope } from './decorators/any-scope.decorator.js';
export { VoxKeyUser } from './decorators/voxkey-user.decorator.js';

export { VoxKeyAuthGuard } from './guards/voxkey-auth.guard.js';
export { ScopesGuard, type ScopeRequirements } from './guards/scopes.guard.js';

export {
  VoxKeyConfigError,
  VoxKeyError,
  VoxKeyJwksError,
  VoxKeyTokenError,
  type TokenRejectionReason,
} from './errors/voxkey.error.js';
export {
  AuthUnavailableException,
  BearerException,
  InsufficientScopeException,
  InvalidRequestException,
  InvalidTokenException,
  MissingTokenException,
  UnsupportedContextException,
} from './errors/bearer.exceptions.js';
