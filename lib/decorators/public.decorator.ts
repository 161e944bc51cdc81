import { authModeDecorator } from '../utils/route-metadata.util.js';

const PUBLIC = { mode: 'public' } as const;

/**
 * Skips authentication (and scope checks) for a handler or a whole controller: the guards never
 * read, parse or verify a token there, so health checks never touch the realm. A handler's
 * `@OptionalAuth()` overrides a controller's `@Public()`, and the reverse.
 *
 * @example
 * @Public() @Get('health') health() { return { ok: true }; }
 */
export const Public = (): MethodDecorator & ClassDecorator => authModeDecorator(PUBLIC);
