import { SetMetadata } from '@nestjs/common';
import { REALM_BINDING_METADATA } from '../voxkey.constants.js';

/** What `@Realm()` and `@RealmFromParam()` store: the realms a route accepts. */
export type RealmBinding = { readonly ids: readonly string[] } | { readonly param: string };

/**
 * Accepts only tokens of these realms (ids of `realms`) on a handler or a whole controller; a
 * token of another realm gets a 401 even when it is otherwise valid. The handler's binding
 * replaces the controller's, and both replace `tenancy.resolve`.
 *
 * @example
 * @Realm('acme') @Get('acme/reports') reports() { ... }
 */
export const Realm = (...ids: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(REALM_BINDING_METADATA, { ids: Object.freeze([...ids]) } satisfies RealmBinding);

/**
 * Accepts only tokens of the realm whose id is the route parameter `name`, as the router matched
 * it (guards run before pipes). A parameter that names no configured realm accepts nothing.
 *
 * @example
 * @RealmFromParam('tenantId') @Get('tenants/:tenantId/posts') posts() { ... }
 */
export const RealmFromParam = (name: string): MethodDecorator & ClassDecorator =>
  SetMetadata(REALM_BINDING_METADATA, { param: name } satisfies RealmBinding);
