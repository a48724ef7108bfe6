/**
 * `gatehouse resources create|list|delete`: protected resources (RFC 8707 resource indicators).
 */
import type { Command } from 'commander';
import { resourceIdentifierProblem } from '../../config/load-config.js';
import type { ProtectedResource } from '../../store/store.js';
import { deleteResource, putResource } from '../../core/admin/resource-administration.js';
import { CliError, formatTime, printJson, writeOut } from '../output.js';
import {
  listCommand,
  listRows,
  repeatable,
  storeCommand,
  withStore,
  type ListFlags,
  type StoreFlags,
} from '../shared.js';

interface ResourceCreateFlags extends StoreFlags {
  name?: string;
  scope: string[];
  introspectionClient: string[];
  json?: boolean;
}

function resourceView(resource: ProtectedResource) {
  return {
    resource: resource.identifier,
    name: resource.name,
    scopes: resource.scopes,
    introspection_client_ids: resource.introspectionClientIds,
    created_at: formatTime(resource.createdAt),
  };
}

/** Registers (or replaces) a protected resource: RFC 8707 resource indicator and its scopes. */
async function resourcesCreate(identifier: string, flags: ResourceCreateFlags): Promise<void> {
  const problem = resourceIdentifierProblem(identifier);
  if (problem) throw new CliError(`resource ${problem}`);
  const scopes = flags.scope.flatMap((scope) => scope.split(' ')).filter((scope) => scope !== '');
  const resource = await withStore(flags, async (store, events) => {
    for (const clientId of flags.introspectionClient) {
      if (!(await store.clients.get(clientId)))
        throw new CliError(`--introspection-client ${clientId}: no such client`);
    }
    const input = { identifier, name: flags.name ?? null, scopes, introspectionClientIds: flags.introspectionClient };
    return (await putResource(input, { store, events, now: () => Date.now() }, { source: 'cli' })).resource;
  });
  if (flags.json) return printJson(resourceView(resource));
  writeOut(`Registered resource ${identifier}${scopes.length > 0 ? ` with scopes ${scopes.join(' ')}` : ''}.`);
}

const resourcesList = listRows(async (store) => (await store.resources.list()).map(resourceView), {
  empty: 'No resources.',
  headers: ['RESOURCE', 'NAME', 'SCOPES', 'INTROSPECTION_CLIENTS'],
  row: (view) => [
    view.resource,
    view.name ?? '-',
    view.scopes.join(' ') || '-',
    view.introspection_client_ids.join(' ') || '-',
  ],
});

async function resourcesDelete(identifier: string, flags: StoreFlags): Promise<void> {
  await withStore(flags, (store, events) =>
    deleteResource(identifier, { store, events, now: () => Date.now() }, { source: 'cli' }),
  );
  writeOut(`Deleted resource ${identifier}.`);
}

export function registerResources(program: Command): void {
  const resources = program
    .command('resources')
    .description('manage protected resources (RFC 8707 resource indicators)');
  const description = 'register or replace a protected resource; tokens requested with resource=URI get it as audience';
  storeCommand(resources, 'create', description, (command) =>
    command
      .argument('<resource>', 'the resource indicator: an absolute URI, e.g. https://api.example.com/')
      .option('--name <name>', 'a display name')
      .addOption(repeatable('--scope <scope>', 'a scope the resource offers (repeatable)'))
      .addOption(
        repeatable(
          '--introspection-client <client_id>',
          'a client allowed to introspect tokens for this resource (repeatable)',
        ),
      )
      .option('--json', 'print the resource as JSON'),
  ).action((identifier: string, flags: ResourceCreateFlags) => resourcesCreate(identifier, flags));
  listCommand(resources, 'list', 'list protected resources').action((flags: ListFlags) => resourcesList(flags));
  storeCommand(resources, 'delete', 'delete a protected resource', (command) => command.argument('<resource>')).action(
    (identifier: string, flags: StoreFlags) => resourcesDelete(identifier, flags),
  );
}
