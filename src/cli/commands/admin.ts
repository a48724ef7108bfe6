/**
 * `gatehouse admin bootstrap`: the first way into the admin API (docs/operating.md). Without
 * `--user`, it registers an automation client (client credentials, RFC 6749 §4.4, scope
 * gatehouse:admin) and prints its secret once; with `--user NAME`, it gives that user the admin
 * role, so that their tokens for the admin API are accepted (the web console).
 */
import type { Command } from 'commander';
import { ADMIN_SCOPE, adminAudience } from '../../core/admin/admin-access.js';
import { prepareClient, storeNewClient } from '../../core/admin/client-administration.js';
import { updateUser } from '../../core/admin/user-administration.js';
import { CliError, printJson, writeErr, writeOut } from '../output.js';
import { settingsFor, storeCommand, withStore, type StoreFlags } from '../shared.js';

interface BootstrapFlags extends StoreFlags {
  user?: string;
  clientId?: string;
  json?: boolean;
}

/** The automation client's default client_id. */
export const BOOTSTRAP_CLIENT_ID = 'gatehouse-admin';

async function bootstrapUser(username: string, flags: BootstrapFlags): Promise<void> {
  const user = await withStore(flags, async (store, events) => {
    const existing = await store.users.getByUsername(username);
    if (!existing) throw new CliError(`no user named ${username} (create it first: gatehouse users create)`);
    return updateUser(existing, { admin: true }, { store, events, now: () => Date.now() }, { source: 'cli' });
  });
  if (flags.json) return printJson({ id: user.id, username: user.username, admin: true });
  writeOut(`User ${username} now holds the admin role: their access tokens for the admin API are accepted.`);
}

async function bootstrapClient(flags: BootstrapFlags): Promise<void> {
  const settings = await settingsFor(flags, false);
  const clientId = flags.clientId ?? BOOTSTRAP_CLIENT_ID;
  const { client, clientSecret } = await prepareClient(
    {
      client_id: clientId,
      client_name: 'Gatehouse admin automation',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: ADMIN_SCOPE,
    },
    settings,
    Date.now(),
  );
  await withStore(flags, (store, events) =>
    storeNewClient(client, { store, events, now: () => Date.now() }, { source: 'cli' }),
  );
  const resource = adminAudience(settings.issuer);
  const note = 'Store the client secret now: it cannot be shown again (Gatehouse keeps only a hash of it).';
  if (flags.json) {
    printJson({ client_id: clientId, client_secret: clientSecret, scope: ADMIN_SCOPE, resource });
    writeErr(note);
    return;
  }
  writeOut(`Created the admin client ${clientId} (client credentials, scope ${ADMIN_SCOPE}).`);
  writeOut(`client_id:     ${clientId}`);
  writeOut(`client_secret: ${clientSecret}`);
  writeOut('');
  writeOut(note);
  writeOut(
    `Get a token: POST ${settings.issuer.replace(/\/+$/, '')}/token with grant_type=client_credentials, scope=${ADMIN_SCOPE}, resource=${resource}`,
  );
}

export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('the admin REST API (/admin/v1)');
  storeCommand(
    admin,
    'bootstrap',
    'create the first admin client (client credentials; the secret is printed once), or with --user give a user the admin role',
    (command) =>
      command
        .option('--user <username>', 'give this user the admin role instead of creating a client')
        .option('--client-id <id>', `client_id of the admin client (default: ${BOOTSTRAP_CLIENT_ID})`)
        .option('--json', 'print JSON'),
  ).action((flags: BootstrapFlags) =>
    flags.user !== undefined ? bootstrapUser(flags.user, flags) : bootstrapClient(flags),
  );
}
