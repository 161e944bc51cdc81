import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, MetadataScanner, Reflector } from '@nestjs/core';
import { discoveredHandlers } from '../audit/discovered-handlers.util.js';
import { InjectVoxKeyOptions } from '../decorators/inject-voxkey-options.decorator.js';
import type {
  ResolvedResource,
  ResolvedVoxKeyOptions,
} from '../interfaces/resolved-voxkey-options.interface.js';
import { ANY_SCOPE_METADATA, RESOURCE_METADATA, SCOPES_METADATA } from '../voxkey.constants.js';
import { namedResource } from './route-resource.js';

/** What a metadata route answers: status, headers and body, the same on Express and Fastify. */
export interface MetadataAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const ALLOW = 'GET, HEAD, OPTIONS';

/**
 * The request headers a preflight may ask for. The document is public and answered without
 * credentials (no `Access-Control-Allow-Credentials`), so the wildcard is safe and lets through
 * whatever headers a client adds, `MCP-Protocol-Version` today and those of later MCP revisions,
 * without a release of this library. Fetch never lets `*` cover `Authorization`, so it is named
 * for clients that send their token everywhere; `MCP-Protocol-Version` is named for browsers
 * that predate the wildcard.
 * @see Fetch standard, "CORS non-wildcard request-header name" (`Authorization`)
 */
const ALLOW_HEADERS = 'Authorization, MCP-Protocol-Version, *';

function problem(status: number, error: string, message: string): string {
  return JSON.stringify({ statusCode: status, error, message });
}

/**
 * Serves each configured resource's RFC 9728 metadata document at its well-known path on the
 * origin root: registered on the HTTP adapter itself when the module initialises (after Nest's
 * own routes, before its not-found handler), so `setGlobalPrefix()` does not move it and no
 * guard, interceptor or pipe runs. The document comes from the configuration alone, never from
 * `Host` or `X-Forwarded-*`. GET and HEAD; OPTIONS answers a browser's CORS preflight (a client
 * that sends `MCP-Protocol-Version` triggers one); any other method is a 405.
 * @see RFC 9728 §3
 */
@Injectable()
export class ResourceMetadataRoutes implements OnModuleInit {
  private readonly logger = new Logger('VoxKeyModule');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @InjectVoxKeyOptions() private readonly options: ResolvedVoxKeyOptions,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    // A microservice or a standalone application context has no HTTP routes to add to.
    if (this.options.resources.length === 0 || !adapter) return;
    for (const resource of this.options.resources) {
      const answer = this.answerFor(resource);
      adapter.all(resource.metadataPath, (request: unknown, response: unknown) => {
        const { status, headers, body } = answer(
          adapter.getRequestMethod(request) as string,
          adapter.getRequestUrl(request) as string,
        );
        for (const [name, value] of Object.entries(headers)) {
          adapter.setHeader(response, name, value);
        }
        adapter.reply(response, body, status);
      });
      this.logger.log(
        `Protected resource metadata of '${resource.resource}' at ${resource.metadataPath}`,
      );
    }
  }

  /** The answers of one resource's metadata route, by method and request URL. */
  answerFor(resource: ResolvedResource): (method: string, url: string) => MetadataAnswer {
    const body = JSON.stringify(this.document(resource));
    const { maxAgeSec } = this.options.resourceMetadata;
    const ok: MetadataAnswer = {
      status: 200,
      headers: {
        'Content-Type': 'application/json',
        'Cache-Control': `public, max-age=${maxAgeSec}`,
        'Access-Control-Allow-Origin': '*',
      },
      body,
    };
    // A preflight is cached as long as the document it clears the way for.
    const preflight: MetadataAnswer = {
      status: 204,
      headers: {
        Allow: ALLOW,
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': ALLOW,
        'Access-Control-Allow-Headers': ALLOW_HEADERS,
        'Access-Control-Max-Age': String(maxAgeSec),
      },
      body: '',
    };
    const json = { 'Content-Type': 'application/json' };
    return (method, url) => {
      const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
      // A resource with a query has its document at that query only (RFC 9728 §3.1).
      if (resource.metadataQuery !== '' && query !== resource.metadataQuery) {
        return { status: 404, headers: json, body: problem(404, 'Not Found', 'Not Found') };
      }
      if (method === 'GET' || method === 'HEAD') return ok;
      if (method === 'OPTIONS') return preflight;
      return {
        status: 405,
        headers: { ...json, Allow: ALLOW },
        body: problem(405, 'Method Not Allowed', `Use ${ALLOW}`),
      };
    };
  }

  /**
   * The document: `resource` verbatim, every configured realm's issuer, the scopes (configured,
   * else those the resource's routes declare), `bearer_methods_supported`, the DPoP and mTLS
   * fields, then the configured fields. Empty lists are left out (RFC 9728 §3.2).
   * @see RFC 9728 §2
   */
  document(resource: ResolvedResource): Record<string, unknown> {
    const scopes = resource.scopesSupported ?? this.declaredScopes(resource.resource);
    return {
      resource: resource.resource,
      authorization_servers: [...new Set(this.options.realms.map((r) => r.endpoints.issuer))],
      ...(scopes.length === 0 ? {} : { scopes_supported: scopes }),
      bearer_methods_supported: ['header'],
      ...this.senderConstraintFields(),
      ...resource.fields,
    };
  }

  /** What the document says of DPoP and certificate-bound tokens. @see RFC 9728 §2 */
  private senderConstraintFields(): Record<string, unknown> {
    const { dpop, mtls } = this.options;
    return {
      ...(dpop.mode === 'off' ? {} : { dpop_signing_alg_values_supported: [...dpop.algorithms] }),
      ...(dpop.mode === 'required' ? { dpop_bound_access_tokens_required: true } : {}),
      ...(mtls === undefined ? {} : { tls_client_certificate_bound_access_tokens: true }),
    };
  }

  /** The scopes `@Scopes()` and `@AnyScope()` declare on the handlers under `resource`, sorted. */
  declaredScopes(resource: string): string[] {
    const single = this.options.resources.length === 1;
    const wrappers = [...this.discovery.getControllers(), ...this.discovery.getProviders()];
    const scopes = new Set<string>();
    for (const { cls, handler } of discoveredHandlers(wrappers, this.scanner)) {
      const own = this.reflector.getAllAndOverride<string | undefined>(RESOURCE_METADATA, [
        handler,
        cls,
      ]);
      const under = own === undefined ? undefined : namedResource(own, this.options.resources);
      if ((under?.resource ?? (single && own === undefined ? resource : undefined)) !== resource) {
        continue;
      }
      for (const target of [cls, handler]) {
        for (const key of [SCOPES_METADATA, ANY_SCOPE_METADATA]) {
          for (const list of this.reflector.get<string[][] | undefined>(key, target) ?? []) {
            for (const scope of list) scopes.add(scope);
          }
        }
      }
    }
    return [...scopes].sort();
  }
}
