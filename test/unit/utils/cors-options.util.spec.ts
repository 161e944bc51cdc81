import { voxkeyCorsOptions } from '../../../lib/utils/cors-options.util';

describe('voxkeyCorsOptions', () => {
  it('exposes the challenge and the MCP session, and allows the OAuth and MCP request headers', () => {
    expect(voxkeyCorsOptions()).toEqual({
      allowedHeaders: [
        'Authorization',
        'DPoP',
        'Content-Type',
        'Mcp-Session-Id',
        'Mcp-Protocol-Version',
        'Mcp-Method',
        'Mcp-Name',
        'Last-Event-ID',
      ],
      exposedHeaders: ['WWW-Authenticate', 'DPoP-Nonce', 'Mcp-Session-Id'],
    });
  });

  it('adds the given headers once (case-insensitively) and keeps the other settings', () => {
    const options = voxkeyCorsOptions({
      origin: ['https://app.example.com'],
      credentials: false,
      allowedHeaders: 'authorization, X-Trace',
      exposedHeaders: ['dpop-nonce', 'X-Request-Id'],
    });
    expect(options.origin).toEqual(['https://app.example.com']);
    expect(options.credentials).toBe(false);
    expect(options.allowedHeaders).toEqual(expect.arrayContaining(['X-Trace']));
    expect((options.allowedHeaders as string[]).filter((h) => /^authorization$/i.test(h))).toEqual([
      'Authorization',
    ]);
    expect(options.exposedHeaders).toEqual([
      'WWW-Authenticate',
      'DPoP-Nonce',
      'Mcp-Session-Id',
      'X-Request-Id',
    ]);
  });
});
