import type { INestApplication } from '@nestjs/common';

/** What `app.enableCors()` takes as an object (Nest's `CorsOptions`, without the delegate form). */
export type VoxKeyCorsOptions = Exclude<
  NonNullable<Parameters<INestApplication['enableCors']>[0]>,
  (...args: never[]) => unknown
>;

/** Request headers a browser OAuth, DPoP or MCP client sends. */
const ALLOWED_HEADERS = [
  'Authorization',
  'DPoP',
  'Content-Type',
  'Mcp-Session-Id',
  'Mcp-Protocol-Version',
  'Mcp-Method',
  'Mcp-Name',
  'Last-Event-ID',
];

/** Response headers a browser client must be able to read: the challenge, the DPoP nonce, the MCP session. */
const EXPOSED_HEADERS = ['WWW-Authenticate', 'DPoP-Nonce', 'Mcp-Session-Id'];

function merge(defaults: readonly string[], extra: string | string[] | undefined): string[] {
  const given = typeof extra === 'string' ? extra.split(',') : (extra ?? []);
  const all = [...defaults, ...given.map((h) => h.trim()).filter(Boolean)];
  const seen = new Set<string>();
  return all.filter((h) => !seen.has(h.toLowerCase()) && seen.add(h.toLowerCase()));
}

/**
 * CORS options for `app.enableCors()` that let browser clients (MCP inspectors, single-page
 * apps) read the `WWW-Authenticate` challenge, `DPoP-Nonce` and `Mcp-Session-Id`, and send
 * `Authorization`, `DPoP`, `Content-Type` and the MCP headers. `extra` is merged in: its headers are added to these, its
 * other settings (`origin`, `credentials`, ...) are kept as given. Without an `origin`, any
 * origin may call, as the `cors` package's default; a Bearer token is not a cookie, so that
 * exposes nothing by itself.
 *
 * @example
 * const app = await NestFactory.create(AppModule);
 * app.enableCors(voxkeyCorsOptions({ origin: ['https://inspector.example.com'] }));
 * @see RFC 9449 §7.1, §8, Fetch standard §3.2.5 (CORS-exposed headers)
 * @publicApi
 */
export function voxkeyCorsOptions(extra: VoxKeyCorsOptions = {}): VoxKeyCorsOptions {
  return {
    ...extra,
    allowedHeaders: merge(ALLOWED_HEADERS, extra.allowedHeaders),
    exposedHeaders: merge(EXPOSED_HEADERS, extra.exposedHeaders),
  };
}
