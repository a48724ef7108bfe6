/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document) for tests: the
 * settings that enable them against the local https DocumentServer, and documents to serve.
 */
import {
  DEFAULT_SETTINGS,
  type ClientFixture,
  type ClientMetadataDocumentSettings,
} from '../../src/config/settings.js';

/** Enabled, allowed to reach 127.0.0.1 (where the test's DocumentServer runs), short time limits. */
export const TEST_DOCUMENT_SETTINGS: ClientMetadataDocumentSettings = {
  ...DEFAULT_SETTINGS.clientMetadataDocuments,
  enabled: true,
  allowPrivateAddresses: true,
  connectTimeoutMs: 1000,
  timeoutMs: 1500,
};

export const DOCUMENT_REDIRECT_URI = 'http://127.0.0.1:9000/cimd-callback';

/** A public client's metadata document at `url` (§4: client_id is the URL itself). */
export function metadataDocument(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: url,
    client_name: 'Example Agent',
    redirect_uris: [DOCUMENT_REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'openid profile offline_access',
    ...extra,
  };
}

/** The same client as a fixture-shaped object, for the test helpers that take one (it is never registered). */
export function documentClientFixture(url: string): ClientFixture {
  return {
    client_id: url,
    redirect_uris: [DOCUMENT_REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'openid profile offline_access',
    require_pkce: true,
  };
}

/** Waits until `condition` holds (polling), failing after `ms`. */
export async function eventually(condition: () => boolean, message: string, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
