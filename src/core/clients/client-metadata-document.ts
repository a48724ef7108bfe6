/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a client
 * that is registered nowhere uses the https URL of a JSON document describing it as its
 * client_id, and the authorization server fetches that document to learn the client's redirect
 * URIs, authentication method and keys.
 *
 * The URL is chosen by whoever sends an authorization request, so fetching it is an outbound
 * request to an attacker-chosen address (§6 Security Considerations, server-side request
 * forgery): it goes through safeFetch (src/core/outbound/safe-fetch.ts) with https only, no
 * redirects, no private or special addresses (checked on the connected socket) unless
 * `client_metadata_documents.allow_private_addresses`, a small size limit (§6 suggests 5
 * kilobytes), a connect and a total time limit, and `application/json` only.
 *
 * This module fetches and validates one document; src/core/clients/client-resolver.ts caches
 * the result and puts it in front of the registered clients.
 */
import type { ClientMetadataDocumentSettings } from '../../config/settings.js';
import type { Client } from '../../store/store.js';
import { ClientMetadataDocumentUnavailable, ClientMetadataError, OutboundRequestFailed } from '../errors.js';
import { responseLifetimeMs, safeFetch, type SafeFetchOptions, type SafeResponse } from '../outbound/safe-fetch.js';
import { registerClient } from '../registration/client-registration.js';

/** What tests inject into the fetch: trusted CAs, a resolver. */
export type DocumentFetchOptions = Pick<SafeFetchOptions, 'ca' | 'resolve'>;

/** The grants a metadata-document client may use: the code flow and its refresh (§1: clients without registration). */
const DOCUMENT_GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);
/** §4: no shared secret; a public client (PKCE) or private_key_jwt with the document's keys. */
const DOCUMENT_AUTH_METHODS = new Set(['none', 'private_key_jwt']);

/**
 * draft-ietf-oauth-client-id-metadata-document §3: whether `clientId` is a client identifier
 * URL: https, with a path (not just `/`), without a fragment, user information or dot segments,
 * at most 255 characters (the longest client_id Gatehouse accepts).
 * It must also be written as the URL parser writes it (lower-case host, no default port), so
 * that one client cannot be named by several strings.
 */
export function isClientIdUrl(clientId: string): boolean {
  // 255: the longest client_id (src/core/registration/client-metadata.ts).
  if (!clientId.startsWith('https://') || clientId.length > 255) return false;
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return false;
  }
  if (url.href !== clientId || clientId.includes('#')) return false;
  if (url.username !== '' || url.password !== '') return false;
  if (url.pathname === '/' || url.pathname === '') return false;
  return !url.pathname.split('/').some((segment) => segment === '.' || segment === '..');
}

/**
 * How the sign-in and consent pages name a client: a registered one by its name; a metadata
 * document's client by its URL's host, the only part of it anyone vouches for (§6.3: a
 * client_name and logo in the document are the client's own claims; no logo is fetched), and
 * marked unverified.
 */
export function displayedClient(client: Client): { name: string; unverified: boolean } {
  if (client.metadataDocument) return { name: new URL(client.clientId).host, unverified: true };
  return { name: client.clientName ?? client.clientId, unverified: false };
}

export interface FetchedDocument {
  client: Client;
  /** Until when the document may be used without fetching it again (its Cache-Control, clamped). */
  freshUntil: number;
}

function refused(clientId: string, why: string): ClientMetadataDocumentUnavailable {
  return new ClientMetadataDocumentUnavailable(clientId, why);
}

/**
 * Fetches the document at `clientId` and turns it into a client, or throws
 * ClientMetadataDocumentUnavailable (whose reasons quote with ' since an error_description may
 * not contain ", RFC 6749 §5.2).
 */
export async function fetchClientMetadataDocument(
  clientId: string,
  settings: ClientMetadataDocumentSettings,
  now: number,
  fetchOptions: DocumentFetchOptions = {},
): Promise<FetchedDocument> {
  let response: SafeResponse;
  try {
    response = await safeFetch(clientId, {
      ...fetchOptions,
      httpsOnly: true,
      headers: { accept: 'application/json' },
      allowPrivateAddresses: settings.allowPrivateAddresses,
      maxResponseBytes: settings.maxResponseBytes,
      connectTimeoutMs: settings.connectTimeoutMs,
      timeoutMs: settings.timeoutMs,
    });
  } catch (error) {
    if (error instanceof OutboundRequestFailed)
      throw refused(clientId, `could not be fetched (${error.kind}): ${error.reason}`);
    throw error;
  }
  if (response.status !== 200) throw refused(clientId, `answered HTTP ${response.status}, not 200`);
  const mediaType = (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw refused(clientId, `has the content type '${mediaType}', not application/json`);
  }
  let document: unknown;
  try {
    document = JSON.parse(response.body.toString('utf8'));
  } catch {
    throw refused(clientId, 'is not valid JSON');
  }
  const client = await documentClient(clientId, document, settings, now);
  const lifetimeMs = responseLifetimeMs(response.headers['cache-control'], {
    minMs: settings.minCacheSeconds * 1000,
    maxMs: settings.maxCacheSeconds * 1000,
    defaultMs: settings.minCacheSeconds * 1000,
  });
  return { client, freshUntil: now + lifetimeMs };
}

/** §4: validates the document as client metadata and returns the client it describes. */
async function documentClientOf(
  clientId: string,
  document: Record<string, unknown>,
  settings: ClientMetadataDocumentSettings,
  now: number,
): Promise<Client> {
  try {
    const { client } = await registerClient(document, {
      generateSecret: false,
      now,
      outbound: { allowPrivateAddresses: settings.allowPrivateAddresses },
    });
    // RFC 9700 §2.1.1 and OAuth 2.1: a client nobody registered always uses PKCE.
    return { ...client, requirePkce: true, metadataDocument: true };
  } catch (error) {
    if (error instanceof ClientMetadataError) throw refused(clientId, `is not valid client metadata: ${error.message}`);
    throw error;
  }
}

function documentClient(
  clientId: string,
  document: unknown,
  settings: ClientMetadataDocumentSettings,
  now: number,
): Promise<Client> {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw refused(clientId, 'is not a JSON object');
  }
  const metadata = document as Record<string, unknown>;
  // §4.1: the document's client_id must equal the URL it was fetched from (simple string comparison).
  if (metadata.client_id !== clientId) {
    throw refused(
      clientId,
      `names the client_id '${String(metadata.client_id ?? '')}', not the URL it was fetched from`,
    );
  }
  // §4.1: shared secrets make no sense in a public document.
  for (const field of ['client_secret', 'client_secret_expires_at']) {
    if (field in metadata) throw refused(clientId, `contains ${field}, which a metadata document must not`);
  }
  const method = metadata.token_endpoint_auth_method;
  if (typeof method !== 'string' || !DOCUMENT_AUTH_METHODS.has(method)) {
    throw refused(
      clientId,
      `has token_endpoint_auth_method '${String(method ?? '')}'; a metadata document client uses none (with PKCE) or private_key_jwt`,
    );
  }
  const grantTypes = metadata.grant_types;
  if (Array.isArray(grantTypes)) {
    const other = grantTypes.find((grant) => typeof grant !== 'string' || !DOCUMENT_GRANT_TYPES.has(grant));
    if (other !== undefined) {
      throw refused(
        clientId,
        `lists the grant type '${String(other)}'; a metadata document client may use authorization_code and refresh_token`,
      );
    }
  }
  return documentClientOf(clientId, metadata, settings, now);
}
