/**
 * What a client that registers itself (RFC 7591 POST /register, RFC 7592 PUT) may ask for, and
 * how refused metadata is answered (RFC 7591 §3.2.2). Metadata validation itself is shared
 * with the config file and the CLI (./client-metadata.ts); this adds the rails that open
 * registration needs, since anyone may be the caller:
 * - only metadata a client may choose for itself is read; unknown names are ignored (RFC 7591 §2);
 * - `client_id` and `client_secret` are the server's to issue (RFC 7591 §3.2.1);
 * - scope only from registration.allowed_scopes (default: the OpenID Connect scopes);
 * - at most registration.max_redirect_uris redirect URIs;
 * - no grant that needs the operator's trust: client_credentials (tokens with no user) and token
 *   exchange (RFC 8693, the operator's resource policy), hence no `token_exchange_resources`.
 * Resources are limited at request time (registration.allowed_resources, assertResourcesOpen).
 */
import type { GatehouseSettings } from '../../config/settings.js';
import type { Client } from '../../store/store.js';
import { type ClientMetadataError, InvalidClientMetadata, InvalidRedirectUri, InvalidTarget } from '../errors.js';
import { CLIENT_METADATA_FIELDS } from './client-metadata-fields.js';

/** The metadata a client may not set for itself (RFC 7591 §3.2.1: issued by the server). */
const SERVER_ISSUED = new Set<string>(['client_id', 'client_secret', 'token_exchange_resources']);

/** Grants only the operator may give a client. */
const OPERATOR_ONLY_GRANTS = ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'];

export type RegistrationPolicySettings = Pick<GatehouseSettings['registration'], 'allowedScopes' | 'maxRedirectUris'>;

/**
 * RFC 7591 §2: the metadata of a registration request that Gatehouse reads, with the rails of
 * open registration applied. Throws InvalidClientMetadata / InvalidRedirectUri.
 */
export function dynamicClientMetadata(body: unknown, policy: RegistrationPolicySettings): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InvalidClientMetadata('the request body must be a JSON object of client metadata (RFC 7591 §3.1)');
  const input = body as Record<string, unknown>;
  // RFC 7591 §2: "The authorization server MUST ignore any client metadata sent by the client
  // that it does not understand"; the server-issued names are not the client's to choose.
  const metadata: Record<string, unknown> = {};
  for (const field of CLIENT_METADATA_FIELDS) {
    if (!SERVER_ISSUED.has(field) && input[field] !== undefined && input[field] !== null)
      metadata[field] = input[field];
  }

  const redirectUris = metadata['redirect_uris'];
  if (Array.isArray(redirectUris) && redirectUris.length > policy.maxRedirectUris) {
    throw new InvalidRedirectUri(
      `redirect_uris: at most ${policy.maxRedirectUris} redirect URIs may be registered (registration.max_redirect_uris)`,
    );
  }

  const grantTypes = metadata['grant_types'];
  if (Array.isArray(grantTypes)) {
    const index = grantTypes.findIndex((grant) => OPERATOR_ONLY_GRANTS.includes(grant as string));
    if (index >= 0) {
      throw new InvalidClientMetadata(
        `grant_types[${index}]: ${String(grantTypes[index])} is not available to self-registered clients; ask the operator to register the client`,
      );
    }
  }

  // RFC 7591 §2 scope: "the authorization server MAY ... limit the scope values"; absent, the
  // client gets every scope open to registration.
  if (metadata['scope'] === undefined) metadata['scope'] = policy.allowedScopes.join(' ');
  else if (typeof metadata['scope'] === 'string') {
    const refused = metadata['scope']
      .split(' ')
      .filter((scope) => scope !== '' && !policy.allowedScopes.includes(scope));
    if (refused.length > 0) {
      throw new InvalidClientMetadata(
        `scope: ${refused.join(' ')} may not be registered by a client itself; allowed are ${policy.allowedScopes.join(' ')}`,
      );
    }
  }
  return metadata;
}

/**
 * RFC 7591 §3.2.2: a refusal of the shared metadata validation as the registration endpoint's
 * error, naming the field: `invalid_redirect_uri` for redirect URIs, `invalid_client_metadata`
 * for every other field.
 */
export function registrationError(error: ClientMetadataError): InvalidClientMetadata | InvalidRedirectUri {
  const field = error.field === '' ? 'client metadata' : error.field;
  const description = error.message.includes(field) ? error.message : `${field}: ${error.message}`;
  return /^(post_logout_)?redirect_uris\b/.test(error.field)
    ? new InvalidRedirectUri(description)
    : new InvalidClientMetadata(description);
}

/**
 * RFC 8707 §2 for self-registered clients: only the resources of registration.allowed_resources
 * (`invalid_target` for any other). Operator-registered clients are not limited here.
 */
export function assertResourcesOpen(
  client: Pick<Client, 'registrationKind'>,
  resources: readonly string[],
  settings: Pick<GatehouseSettings, 'registration'>,
): void {
  if (client.registrationKind !== 'dynamic') return;
  const closed = resources.find((resource) => !settings.registration.allowedResources.includes(resource));
  if (closed !== undefined) {
    throw new InvalidTarget(
      `resource ${closed} is not open to self-registered clients (registration.allowed_resources)`,
    );
  }
}
