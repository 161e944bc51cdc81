import { SetMetadata } from '@nestjs/common';
import { RESOURCE_METADATA } from '../voxkey.constants.js';

/**
 * Puts a handler or a whole controller under one of the configured `resources` (its URI,
 * exactly as configured, or its `id` when the URI is only known at run time): its tokens must name it in `aud`, and its challenges point at its
 * RFC 9728 metadata document. The handler's overrides the controller's. With a single resource,
 * every route is under it without this decorator. A URI that is not configured stops the
 * application at start-up.
 *
 * @example
 * @Resource('https://api.example.com/mcp')
 * @Controller('mcp')
 * export class McpController {}
 *
 * @example
 * // resources: [{ id: 'mcp', resource: `${process.env.PUBLIC_URL}/mcp` }]
 * @Resource('mcp')
 * @Controller('mcp')
 * export class McpController {}
 * @see RFC 9728 §1.2, RFC 8707 §2
 */
export const Resource = (resource: string): MethodDecorator & ClassDecorator =>
  SetMetadata(RESOURCE_METADATA, resource);
