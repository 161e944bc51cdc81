// Metadata keys that NestJS 11 and 12 and @nestjs/graphql 13 and 14 write, read as strings so
// that the start-up audits never load a transport package (or a deep import of one).

/** `@UseGuards()` on a class or a method. */
export const GUARDS = '__guards__';
/** `@Controller()` and the HTTP method decorators: the path (a string or a list). */
export const PATH = 'path';
/** The HTTP method decorators: a `RequestMethod`. */
export const REQUEST_METHOD = 'method';
/** `@Version()`, or `@Controller({ version })`. */
export const VERSION = '__version__';

/** `@WebSocketGateway()` on a class. */
export const GATEWAY = 'websockets:is_gateway';
/** `@SubscribeMessage()` on a method of a gateway. */
export const MESSAGE_HANDLER = 'websockets:message_mapping';
/** The message `@SubscribeMessage()` answers. */
export const MESSAGE_NAME = 'message';

/** `@MessagePattern()`, `@EventPattern()`, `@GrpcMethod()`: the list of patterns. */
export const MESSAGE_PATTERN = 'microservices:pattern';
/** Whether a pattern handler answers messages (1) or events (2). */
export const PATTERN_HANDLER = 'microservices:handler_type';

/** `@Resolver()` on a class (the parent type's name), `@Query()` and so on on a method. */
export const RESOLVER_TYPE = 'graphql:resolver_type';
/** The field a `@Query()`, `@Mutation()`, `@Subscription()` or `@ResolveField()` resolves. */
export const RESOLVER_NAME = 'graphql:resolver_name';
/** `@ResolveField()` on a method. */
export const FIELD_RESOLVER = 'graphql:resolve_property';
/** The injection token of each `GraphQLModule`'s options. */
export const GRAPHQL_OPTIONS = 'GqlModuleOptions';
