import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import { SharedState } from '../store/shared-state.js';
import { displayUrl } from '../utils/display-url.util.js';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';

/** Realms named in the summary; the others are counted. */
const LISTED_REALMS = 5;

/**
 * The one line logged at start-up: realms with their issuer and key set URL (scheme, host and
 * path only), how tokens are validated and with which algorithms, the store, the contexts, the
 * resources, DPoP (and mTLS) and the pre-warm. Never a secret, a client id or a query string.
 */
export function startupSummary(options: ResolvedVoxKeyOptions, sharedStore: boolean): string {
  const realms = options.realms.map(({ id, endpoints, issuers }) => {
    const aliases = issuers.length > 1 ? ` +${issuers.length - 1} alias(es)` : '';
    const keys = options.validation === 'jwt' ? `, JWKS ${displayUrl(endpoints.jwksUri)}` : '';
    return `'${id}' (issuer ${displayUrl(endpoints.issuer)}${aliases}${keys})`;
  });
  const more = realms.length > LISTED_REALMS ? ` and ${realms.length - LISTED_REALMS} more` : '';
  const provided = options.realmsProvider ? ', and realms from realmsProvider' : '';
  const contexts = (['graphql', 'ws', 'rpc'] as const).filter((name) => options.contexts[name]);
  // Verbatim (a resource is compared exactly), without a query; credentials are refused.
  const resources = options.resources.map(({ resource }) => resource.split('?')[0]);
  const parts = [
    `${realms.length > 1 ? 'realms' : 'realm'} ${realms.slice(0, LISTED_REALMS).join(', ')}${more}${provided}`,
    options.validation === 'jwt'
      ? `validation jwt (${options.algorithms.join(', ')})`
      : 'validation introspection',
    `store ${sharedStore ? 'shared' : 'in-process'}`,
    `contexts ${['http', ...contexts].join(', ')}`,
    resources.length === 0 ? 'no resource' : `resource ${resources.join(', ')}`,
    `DPoP ${options.dpop.mode}`,
    ...(options.mtls ? [`mTLS ${options.mtls.mode}`] : []),
    `prewarm ${options.validation === 'jwt' ? options.prewarm : 'off'}`,
  ];
  return parts.join('; ');
}

/** Logs {@link startupSummary} once the application's logger is in place. */
@Injectable()
export class StartupSummary implements OnModuleInit {
  private readonly logger = new Logger('VoxKey');

  constructor(
    @Inject(VOXKEY_RESOLVED_OPTIONS) private readonly options: ResolvedVoxKeyOptions,
    private readonly state: SharedState,
  ) {}

  onModuleInit(): void {
    this.logger.log(startupSummary(this.options, this.state.shared));
  }
}
