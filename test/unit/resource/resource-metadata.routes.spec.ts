import { Logger } from '@nestjs/common';
import type { DiscoveryService, HttpAdapterHost, MetadataScanner, Reflector } from '@nestjs/core';
import { ResourceMetadataRoutes } from '../../../lib/resource/resource-metadata.routes';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';
import { SUPPORTED_ALGORITHMS } from '../../../lib/voxkey.constants';

const REALM = '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a';

function routes(resource: string, httpAdapter?: object): ResourceMetadataRoutes {
  const options = resolveVoxKeyOptions({
    domain: 'https://your-domain.com',
    realm: REALM,
    resources: [{ resource, scopesSupported: ['read'] }],
  });
  return new ResourceMetadataRoutes(
    { httpAdapter } as HttpAdapterHost,
    {} as DiscoveryService,
    {} as MetadataScanner,
    {} as Reflector,
    options,
  );
}

describe('ResourceMetadataRoutes', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('serves a resource with a query at that query only (RFC 9728 §3.1)', () => {
    const prm = routes('https://api.example.com/api?t=1');
    const answer = prm.answerFor(prm['options'].resources[0]);
    const ok = answer('GET', '/.well-known/oauth-protected-resource/api?t=1');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({
      resource: 'https://api.example.com/api?t=1',
      authorization_servers: [`https://your-domain.com/oauth2/${REALM}`],
      scopes_supported: ['read'],
      bearer_methods_supported: ['header'],
      // DPoP is on by default with a resource: the proof algorithms accepted.
      dpop_signing_alg_values_supported: [...SUPPORTED_ALGORITHMS],
    });
    expect(answer('GET', '/.well-known/oauth-protected-resource/api').status).toBe(404);
    expect(answer('GET', '/.well-known/oauth-protected-resource/api?t=2').status).toBe(404);
    expect(answer('OPTIONS', '/.well-known/oauth-protected-resource/api?t=2').status).toBe(404);
    expect(answer('POST', '/.well-known/oauth-protected-resource/api?t=1')).toMatchObject({
      status: 405,
      headers: { Allow: 'GET, HEAD, OPTIONS' },
    });
  });

  it('answers a CORS preflight with 204, any origin, the MCP headers, for as long as the document is cached', () => {
    const prm = routes('https://api.example.com/mcp');
    const answer = prm.answerFor(prm['options'].resources[0]);
    expect(answer('OPTIONS', '/.well-known/oauth-protected-resource/mcp')).toEqual({
      status: 204,
      headers: {
        Allow: 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, MCP-Protocol-Version, *',
        'Access-Control-Max-Age': '3600',
      },
      body: '',
    });
  });

  it('adds no route without an HTTP adapter (a microservice, an application context)', () => {
    expect(() => routes('https://api.example.com/mcp').onModuleInit()).not.toThrow();
  });

  it('registers one route per resource on the adapter, at its metadata path', () => {
    const all = jest.fn();
    routes('https://api.example.com/mcp', { all }).onModuleInit();
    expect(all).toHaveBeenCalledTimes(1);
    expect(all.mock.calls[0][0]).toBe('/.well-known/oauth-protected-resource/mcp');
  });
});
