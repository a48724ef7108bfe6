/**
 * `gatehouse clients update CLIENT_ID`: changes a registered client's metadata. The flags are those
 * of `clients create` that describe what the client may do (name, redirect URIs, grant types,
 * scopes, logout, keys); the result is validated by the same code as every registration
 * (validateClientMetadata, through registerClient), and client.updated lets every instance's cache
 * follow. The client_id, its secret (or key), its authentication method and its creation time are kept.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { clientToMetadata } from '../../core/registration/client-registration.js';
import { updateClient } from '../../core/admin/client-administration.js';
import { CliError, printJson, writeOut } from '../output.js';
import { repeatable, settingsFor, storeCommand, withStore, type StoreFlags } from '../shared.js';

/** The JWK Set of `--jwks-file` (validated with the rest of the metadata). */
export async function readJwksFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read --jwks-file ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`--jwks-file ${path} is not JSON: ${(error as Error).message}`);
  }
}

interface ClientUpdateFlags extends StoreFlags {
  name?: string;
  redirectUri: string[];
  grantType: string[];
  scope?: string;
  requirePkce?: boolean;
  postLogoutRedirectUri: string[];
  backchannelLogoutUri?: string;
  tokenExchangeResource: string[];
  subjectType?: string;
  jwksFile?: string;
  jwksUri?: string;
  json?: boolean;
}

/** The metadata the flags change (a list flag replaces the whole list); undefined when none is given. */
async function changedMetadata(flags: ClientUpdateFlags): Promise<Record<string, unknown> | undefined> {
  const list = (values: string[]) => (values.length > 0 ? values : undefined);
  const changes: Record<string, unknown> = {
    client_name: flags.name,
    redirect_uris: list(flags.redirectUri),
    grant_types: list(flags.grantType),
    scope: flags.scope,
    require_pkce: flags.requirePkce,
    post_logout_redirect_uris: list(flags.postLogoutRedirectUri),
    backchannel_logout_uri: flags.backchannelLogoutUri,
    token_exchange_resources: list(flags.tokenExchangeResource),
    subject_type: flags.subjectType,
    jwks: flags.jwksFile !== undefined ? await readJwksFile(flags.jwksFile) : undefined,
    jwks_uri: flags.jwksUri,
  };
  const given = Object.entries(changes).filter(([, value]) => value !== undefined);
  return given.length === 0 ? undefined : Object.fromEntries(given);
}

async function clientsUpdate(clientId: string, flags: ClientUpdateFlags): Promise<void> {
  const changes = await changedMetadata(flags);
  if (changes === undefined) throw new CliError('nothing to update: pass at least one flag (see --help)');
  const settings = await settingsFor(flags, false);
  const updated = await withStore(flags, (store, events) =>
    updateClient(clientId, changes, { store, events, now: () => Date.now() }, settings, { source: 'cli' }),
  );
  const view = clientToMetadata(updated);
  if (flags.json) return printJson(view);
  writeOut(`Updated client ${clientId}${view.client_name ? ` "${view.client_name}"` : ''}.`);
}

export function registerClientUpdate(clients: Command): void {
  storeCommand(
    clients,
    'update',
    "change a client's metadata (what is not given is kept; a repeatable flag replaces the whole list); the client_id, secret and authentication method stay",
    (command) =>
      command
        .argument('<client_id>')
        .option('--name <name>', 'client_name shown to users on the consent page')
        .addOption(repeatable('--redirect-uri <uri>', 'redirect URI (repeatable; replaces the registered ones)'))
        .addOption(repeatable('--grant-type <type>', 'a grant type, as for clients create (repeatable; replaces them)'))
        .option('--scope <scopes>', 'space-separated scopes the client may request')
        .option('--require-pkce', 'require PKCE (RFC 9700 §2.1.1)')
        .option('--no-require-pkce', 'do not require PKCE (confidential clients only)')
        .addOption(
          repeatable(
            '--post-logout-redirect-uri <uri>',
            'where the browser may return after signing out (repeatable; replaces them)',
          ),
        )
        .option('--backchannel-logout-uri <uri>', 'where logout tokens are POSTed when a session ends')
        .addOption(
          repeatable(
            '--token-exchange-resource <uri>',
            'a resource the client may exchange tokens for (repeatable; replaces them)',
          ),
        )
        .option('--subject-type <type>', 'public or pairwise (OpenID Connect Core §8)')
        .option('--jwks-file <path>', 'a JSON file with the public keys (JWK Set) of a private_key_jwt client')
        .option('--jwks-uri <url>', 'where a private_key_jwt client publishes its public keys')
        .option('--json', 'print the client as JSON'),
  ).action((clientId: string, flags: ClientUpdateFlags) => clientsUpdate(clientId, flags));
}
