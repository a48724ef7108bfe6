/**
 * Administering protected resources (RFC 8707 resource indicators): registering or replacing
 * one, and deleting it. The one code path of the CLI (`gatehouse resources ...`) and the admin
 * API; the store's change feed drops the resource from every instance's cache.
 */
import { resourceIdentifierProblem } from '../../config/load-config.js';
import type { ProtectedResource, Store } from '../../store/store.js';
import { AdminNotFound, AdminValidationFailed, type FieldProblem } from '../errors.js';
import type { EventBus } from '../events.js';
import type { ChangeOrigin } from './client-administration.js';

export interface ResourceAdminDeps {
  store: Pick<Store, 'resources' | 'clients'>;
  events: Pick<EventBus, 'emit'>;
  now(): number;
}

export interface ResourceInput {
  identifier: string;
  name?: string | null | undefined;
  scopes: string[];
  introspectionClientIds: string[];
}

/** RFC 6749 §3.3 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Registers or replaces a resource; AdminValidationFailed names the refused fields (the
 * identifier, a scope, an introspection client that does not exist). Returns it and whether it is new.
 */
export async function putResource(
  input: ResourceInput,
  deps: ResourceAdminDeps,
  origin: ChangeOrigin,
): Promise<{ resource: ProtectedResource; created: boolean }> {
  const problems: FieldProblem[] = [];
  const identifier = resourceIdentifierProblem(input.identifier);
  if (identifier !== undefined) problems.push({ field: 'resource', message: identifier });
  input.scopes.forEach((scope, index) => {
    if (!SCOPE_TOKEN.test(scope))
      problems.push({ field: `scopes[${index}]`, message: 'is no scope token (RFC 6749 §3.3)' });
  });
  for (const [index, clientId] of input.introspectionClientIds.entries()) {
    if (!(await deps.store.clients.get(clientId)))
      problems.push({ field: `introspection_client_ids[${index}]`, message: `no client ${clientId}` });
  }
  if (problems.length > 0)
    throw new AdminValidationFailed(problems.map((p) => `${p.field} ${p.message}`).join('; '), problems);
  const existing = await deps.store.resources.get(input.identifier);
  const resource: ProtectedResource = {
    identifier: input.identifier,
    name: input.name ?? null,
    scopes: [...new Set(input.scopes)],
    introspectionClientIds: [...new Set(input.introspectionClientIds)],
    createdAt: existing?.createdAt ?? deps.now(),
  };
  await deps.store.resources.upsert(resource);
  deps.events.emit(
    { type: existing ? 'resource.updated' : 'resource.created', resource: resource.identifier, ...origin },
    deps.now(),
  );
  return { resource, created: !existing };
}

/** The resource with this identifier, or AdminNotFound. */
export async function existingResource(
  store: Pick<Store, 'resources'>,
  identifier: string,
): Promise<ProtectedResource> {
  const resource = await store.resources.get(identifier);
  if (!resource) throw new AdminNotFound(`no resource ${identifier}`);
  return resource;
}

/** Deletes a resource; tokens already issued for it keep their audience until they expire. */
export async function deleteResource(identifier: string, deps: ResourceAdminDeps, origin: ChangeOrigin): Promise<void> {
  if (!(await deps.store.resources.delete(identifier))) throw new AdminNotFound(`no resource ${identifier}`);
  deps.events.emit({ type: 'resource.deleted', resource: identifier, ...origin }, deps.now());
}
