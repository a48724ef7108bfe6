/**
 * `gatehouse clients create|list|show|update|delete`: OAuth clients (RFC 7591 client metadata).
 */
import { Option, type Command } from 'commander';
import { readJwksFile, registerClientUpdate } from './client-update.js';
import { CliError, formatTime, printJson, writeErr, writeOut } from '../output.js';
import { TOKEN_EXCHANGE_GRANT_TYPE } from '../../core/token/token-types.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../core/device/device-authorization-endpoint.js';
import { MIN_CHOSEN_CLIENT_SECRET_LENGTH } from '../../core/users/password-policy.js';
import { CLIENT_PROFILES } from '../../core/registration/profile-metadata.js';
import {
  listCommand,
  listRows,
  readStdin,
  repeatable,
  settingsFor,
  storeCommand,
  withStore,
  type ListFlags,
  type StoreFlags,
} from '../shared.js';
import { clientToMetadata, type ClientMetadataView } from '../../core/registration/client-registration.js';
import { deleteClient, prepareClient, storeNewClient } from '../../core/admin/client-administration.js';
import {
  REQUEST_OBJECT_SIGNING_ALGS,
  SUPPORTED_AUTH_METHODS,
  TOKEN_ENDPOINT_AUTH_SIGNING_ALGS,
} from '../../core/registration/client-metadata-fields.js';

function describeClient(view: ClientMetadataView): string {
  const lines: Array<[string, string]> = [
    ['client_id', view.client_id],
    ['client_name', view.client_name ?? '-'],
    ['client_type', view.client_type],
    ['token_endpoint_auth_method', view.token_endpoint_auth_method],
    ['redirect_uris', view.redirect_uris.join(' ') || '-'],
    ['grant_types', view.grant_types.join(' ')],
    ['response_types', view.response_types.join(' ') || '-'],
    ['scope', view.scope],
    ['require_pkce', String(view.require_pkce)],
    ['subject_type', view.subject_type],
    ['post_logout_redirect_uris', view.post_logout_redirect_uris?.join(' ') ?? '-'],
    ['backchannel_logout_uri', view.backchannel_logout_uri ?? '-'],
    ['jwks', view.jwks !== undefined ? `${view.jwks.keys.length} key(s)` : '-'],
    ['jwks_uri', view.jwks_uri ?? '-'],
    ['token_endpoint_auth_signing_alg', view.token_endpoint_auth_signing_alg ?? '-'],
    ...(view.backchannel_logout_uri !== undefined
      ? [
          ['backchannel_logout_session_required', String(view.backchannel_logout_session_required ?? false)] as [
            string,
            string,
          ],
        ]
      : []),
    ['require_pushed_authorization_requests', String(view.require_pushed_authorization_requests ?? false)],
    ['request_object_signing_alg', view.request_object_signing_alg ?? '-'],
    ['require_signed_request_object', String(view.require_signed_request_object ?? false)],
    ['profile', view.profile ?? 'server default'],
    ...(view.token_exchange_resources !== undefined
      ? [['token_exchange_resources', view.token_exchange_resources.join(' ')] as [string, string]]
      : []),
    ['created', formatTime(view.client_id_issued_at * 1000)],
  ];
  const width = Math.max(...lines.map(([key]) => key.length));
  return lines.map(([key, value]) => `${`${key}:`.padEnd(width + 1)}  ${value}`).join('\n');
}

interface ClientCreateFlags extends StoreFlags {
  clientId?: string;
  name?: string;
  redirectUri: string[];
  grantType: string[];
  public?: boolean;
  tokenEndpointAuthMethod?: string;
  scope?: string;
  requirePkce: boolean;
  postLogoutRedirectUri: string[];
  backchannelLogoutUri?: string;
  backchannelLogoutSessionRequired?: boolean;
  tokenExchangeResource: string[];
  dpopBoundAccessTokens?: boolean;
  subjectType?: string;
  jwksFile?: string;
  jwksUri?: string;
  tokenEndpointAuthSigningAlg?: string;
  requirePar?: boolean;
  requestObjectSigningAlg?: string;
  requireSignedRequestObject?: boolean;
  profile?: string;
  secretStdin?: boolean;
  json?: boolean;
}

/** The flags of `clients create` (ClientCreateFlags): one per client metadata field (RFC 7591 §2 names in the help). */
function clientCreateOptions(command: Command): Command {
  return command
    .option('--client-id <id>', 'client_id (default: a random one)')
    .option('--name <name>', 'client_name shown to users on the consent page')
    .addOption(repeatable('--redirect-uri <uri>', 'redirect URI (repeatable)'))
    .addOption(
      repeatable(
        '--grant-type <type>',
        `authorization_code, refresh_token, client_credentials, ${DEVICE_CODE_GRANT_TYPE} or ${TOKEN_EXCHANGE_GRANT_TYPE} (repeatable; default: authorization_code refresh_token)`,
      ),
    )
    .option('--public', 'a public client (native or browser app): no secret, token_endpoint_auth_method none')
    .addOption(
      new Option(
        '--token-endpoint-auth-method <method>',
        'how a confidential client authenticates (default: client_secret_basic)',
      ).choices([...SUPPORTED_AUTH_METHODS]),
    )
    .option(
      '--jwks-file <path>',
      'a JSON file with the public keys (a JWK Set) of a private_key_jwt client (RFC 7591 §2 jwks)',
    )
    .option(
      '--jwks-uri <url>',
      'where a private_key_jwt client publishes its public keys (https; RFC 7591 §2 jwks_uri)',
    )
    .addOption(
      new Option(
        '--token-endpoint-auth-signing-alg <alg>',
        "the only JWS algorithm accepted for the client's assertions (default: any the server supports for its method)",
      ).choices([...TOKEN_ENDPOINT_AUTH_SIGNING_ALGS]),
    )
    .option(
      '--scope <scopes>',
      'space-separated scopes the client may request (default: "openid profile email offline_access")',
    )
    .option('--no-require-pkce', 'do not require PKCE (confidential clients only; RFC 9700 §2.1.1)')
    .option(
      '--subject-type <type>',
      'public (sub is the user id, default) or pairwise (a different sub per redirect-URI host; OpenID Connect Core §8)',
    )
    .addOption(
      repeatable(
        '--post-logout-redirect-uri <uri>',
        'where the browser may return after signing out (repeatable; OpenID Connect RP-Initiated Logout 1.0)',
      ),
    )
    .option(
      '--backchannel-logout-uri <uri>',
      'where logout tokens are POSTed when a session ends (https, or http on a loopback host; OpenID Connect Back-Channel Logout 1.0)',
    )
    .option('--backchannel-logout-session-required', 'the client needs sid in logout tokens (they always carry it)')
    .option(
      '--dpop-bound-access-tokens',
      'the client must prove a DPoP key with every token request; its tokens are bound to it (RFC 9449 §5.2)',
    )
    .addOption(
      repeatable(
        '--token-exchange-resource <uri>',
        "a registered resource the client may exchange a user's access token for (repeatable; RFC 8693, with the token exchange grant)",
      ),
    )
    .option(
      '--require-par',
      'authorization requests only through the pushed authorization request endpoint (require_pushed_authorization_requests, RFC 9126 §6)',
    )
    .addOption(
      new Option(
        '--request-object-signing-alg <alg>',
        "the only JWS algorithm accepted for the client's signed request objects (RFC 9101 §10.5; default: any the server supports)",
      ).choices([...REQUEST_OBJECT_SIGNING_ALGS]),
    )
    .option(
      '--require-signed-request-object',
      'authorization requests only as request objects signed with the client key (require_signed_request_object, RFC 9101 §10.5)',
    )
    .addOption(
      new Option(
        '--profile <profile>',
        'fapi2: hold the client to the FAPI 2.0 Security Profile (private_key_jwt, PAR, PKCE, DPoP; see docs/high-security-clients.md)',
      ).choices([...CLIENT_PROFILES]),
    )
    .option(
      '--secret-stdin',
      'read the client secret from standard input (at least 32 characters; one trailing newline is removed) instead of generating one',
    )
    .option('--json', 'print the client as JSON');
}

/** The client secret of `--secret-stdin`: a chosen secret needs MIN_CHOSEN_CLIENT_SECRET_LENGTH characters. */
async function chosenSecret(flags: ClientCreateFlags, method: unknown): Promise<string | undefined> {
  if (!flags.secretStdin) return undefined;
  if (flags.public || method === 'none' || method === 'private_key_jwt')
    throw new CliError(
      '--secret-stdin is for a client that authenticates with a secret, not a public or private_key_jwt one',
    );
  const secret = (await readStdin('the client secret')).replace(/\r?\n$/, '');
  const length = [...secret].length;
  if (length < MIN_CHOSEN_CLIENT_SECRET_LENGTH)
    throw new CliError(
      `the client secret read from standard input is ${length} characters long; a chosen client secret needs at least ${MIN_CHOSEN_CLIENT_SECRET_LENGTH}`,
    );
  return secret;
}

async function clientsCreate(flags: ClientCreateFlags): Promise<void> {
  if (flags.public && flags.tokenEndpointAuthMethod !== undefined && flags.tokenEndpointAuthMethod !== 'none') {
    throw new CliError(
      '--public means token_endpoint_auth_method "none"; do not combine it with --token-endpoint-auth-method',
    );
  }
  const metadata: Record<string, unknown> = {
    client_id: flags.clientId,
    client_name: flags.name,
    redirect_uris: flags.redirectUri,
    grant_types: flags.grantType.length > 0 ? flags.grantType : undefined,
    token_endpoint_auth_method: flags.public ? 'none' : flags.tokenEndpointAuthMethod,
    scope: flags.scope,
    require_pkce: flags.requirePkce,
    post_logout_redirect_uris: flags.postLogoutRedirectUri.length > 0 ? flags.postLogoutRedirectUri : undefined,
    backchannel_logout_uri: flags.backchannelLogoutUri,
    backchannel_logout_session_required: flags.backchannelLogoutSessionRequired,
    subject_type: flags.subjectType,
    token_exchange_resources: flags.tokenExchangeResource.length > 0 ? flags.tokenExchangeResource : undefined,
    dpop_bound_access_tokens: flags.dpopBoundAccessTokens,
    jwks: flags.jwksFile !== undefined ? await readJwksFile(flags.jwksFile) : undefined,
    jwks_uri: flags.jwksUri,
    token_endpoint_auth_signing_alg: flags.tokenEndpointAuthSigningAlg,
    require_pushed_authorization_requests: flags.requirePar,
    request_object_signing_alg: flags.requestObjectSigningAlg,
    require_signed_request_object: flags.requireSignedRequestObject,
    profile: flags.profile,
    client_secret: await chosenSecret(flags, flags.tokenEndpointAuthMethod),
  };
  // Validate before touching the database, so that a typo costs nothing. The config file's
  // outbound_allow_private_addresses decides whether a private-address backchannel_logout_uri or
  // jwks_uri is accepted. A client_secret_jwt secret is sealed under GATEHOUSE_SECRET, so that needs it.
  const sealsSecret = metadata['token_endpoint_auth_method'] === 'client_secret_jwt';
  const settings = await settingsFor(flags, sealsSecret);
  const { client, clientSecret } = await prepareClient(metadata, settings, Date.now());
  await withStore(flags, (store, events) =>
    storeNewClient(client, { store, events, now: () => Date.now() }, { source: 'cli' }),
  );

  const view = clientToMetadata(client);
  const note = 'Store the client secret now: it cannot be shown again (Gatehouse keeps only a hash of it).';
  if (flags.json) {
    printJson(clientSecret !== null ? { ...view, client_secret: clientSecret } : view);
    if (clientSecret !== null) writeErr(note);
    return;
  }
  writeOut(`Created ${view.client_type} client${view.client_name ? ` "${view.client_name}"` : ''}.`);
  writeOut(`client_id:     ${view.client_id}`);
  if (clientSecret !== null) {
    writeOut(`client_secret: ${clientSecret}`);
    writeOut('');
    writeOut(note);
  }
}

const clientsList = listRows(async (store) => (await store.clients.list()).map(clientToMetadata), {
  empty: 'No clients.',
  headers: ['CLIENT_ID', 'TYPE', 'NAME', 'GRANT_TYPES', 'REDIRECT_URIS'],
  row: (view) => [
    view.client_id,
    view.client_type,
    view.client_name ?? '-',
    view.grant_types.join(','),
    view.redirect_uris.join(' ') || '-',
  ],
});

async function clientsShow(clientId: string, flags: StoreFlags & { json?: boolean }): Promise<void> {
  const client = await withStore(flags, (store) => store.clients.get(clientId));
  if (!client) throw new CliError(`no client with client_id ${clientId}`);
  const view = clientToMetadata(client);
  if (flags.json) return printJson(view);
  writeOut(describeClient(view));
}

/**
 * Deletes a client. A protected resource that names it as an introspection client would keep a
 * dangling client_id, so the deletion is refused naming those resources, unless `--force`, which
 * removes the client from them too.
 */
async function clientsDelete(clientId: string, flags: StoreFlags & { force?: boolean }): Promise<void> {
  const detached = await withStore(flags, (store, events) =>
    deleteClient(
      clientId,
      { force: flags.force === true },
      { store, events, now: () => Date.now() },
      { source: 'cli' },
    ),
  );
  writeOut(`Deleted client ${clientId} (and every grant, code and token issued to it).`);
  if (detached.length > 0) writeOut(`Removed it as introspection client from resource ${detached.join(', ')}.`);
}

export function registerClients(program: Command): void {
  const clients = program.command('clients').description('manage OAuth clients');
  storeCommand(
    clients,
    'create',
    'register a client; a confidential client gets a secret that is shown once',
    clientCreateOptions,
  ).action((flags: ClientCreateFlags) => clientsCreate(flags));
  listCommand(clients, 'list', 'list clients').action((flags: ListFlags) => clientsList(flags));
  registerClientUpdate(clients);
  storeCommand(clients, 'show', 'show one client', (command) =>
    command.argument('<client_id>').option('--json', 'print JSON'),
  ).action((clientId: string, flags: StoreFlags & { json?: boolean }) => clientsShow(clientId, flags));
  storeCommand(clients, 'delete', 'delete a client and everything issued to it', (command) =>
    command
      .argument('<client_id>')
      .option('--force', 'also when a resource names it as introspection client: remove it from the resource too'),
  ).action((clientId: string, flags: StoreFlags & { force?: boolean }) => clientsDelete(clientId, flags));
}
