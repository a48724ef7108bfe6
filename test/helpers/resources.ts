/** Protected resources (RFC 8707) for test servers. */
import type { ResourceFixture } from '../../src/config/settings.js';

/** A resource with the scope api:read; `introspectors`: the client_ids that may introspect its tokens (RFC 7662). */
export function apiResource(resource: string, name: string, introspectors: string[] = []): ResourceFixture {
  return { resource, name, scopes: ['api:read'], introspection_client_ids: introspectors };
}
