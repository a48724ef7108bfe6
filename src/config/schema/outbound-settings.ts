/**
 * Settings of the requests the server makes itself: back-channel logout deliveries and the
 * limits of every outbound request (src/core/outbound/safe-fetch.ts). Composed into the config
 * file schema by src/config/settings-schema.ts.
 */
import { Type } from '@sinclair/typebox';
import { boolSetting, intSetting, msSetting, secondsSetting } from './setting-node.js';

export const OUTBOUND_SETTINGS = {
  // OpenID Connect Back-Channel Logout 1.0: delivery retries of logout tokens. 1 s, 2 s, 4 s,
  // ... then every 5 minutes: about 300 attempts make a day.
  backchannel_logout_max_attempts: intSetting(
    'backchannelLogoutMaxAttempts',
    [1, 10000],
    300,
    'back-channel logout: delivery attempts at most',
  ),
  backchannel_logout_max_age_seconds: secondsSetting(
    'backchannelLogoutMaxAgeSeconds',
    [1, 30 * 86400],
    24 * 3600,
    'back-channel logout: delivery given up after (s)',
  ),
  backchannel_logout_backoff_initial_ms: msSetting(
    'backchannelLogoutBackoffInitialMs',
    [10, 3600_000],
    1000,
    'back-channel logout: first retry delay (ms)',
  ),
  backchannel_logout_backoff_max_ms: msSetting(
    'backchannelLogoutBackoffMaxMs',
    [10, 86400_000],
    5 * 60 * 1000,
    'back-channel logout: longest retry delay (ms)',
  ),
  backchannel_logout_timeout_ms: msSetting(
    'backchannelLogoutTimeoutMs',
    [100, 60_000],
    5000,
    'back-channel logout: time limit of one delivery (ms)',
  ),
  outbound_allow_private_addresses: boolSetting(
    'outboundAllowPrivateAddresses',
    false,
    'outbound requests (and registered IP literals) may reach private, loopback and link-local addresses (see "Outbound requests")',
  ),
  outbound_max_response_bytes: intSetting(
    'outboundMaxResponseBytes',
    [1024, 16 * 1024 * 1024],
    64 * 1024,
    'largest response body of an outbound request (bytes)',
    { unit: ' (bytes)' },
  ),
  // draft-ietf-oauth-client-id-metadata-document: an https client_id URL names the client's
  // metadata document, fetched through safeFetch (src/core/clients/client-metadata-document.ts).
  client_metadata_documents: Type.Optional(
    Type.Object(
      {
        enabled: boolSetting(
          'clientMetadataDocuments.enabled',
          false,
          'Client ID Metadata Documents: an https client_id URL is the URL of the client\'s metadata (see "Client ID Metadata Documents")',
        ),
        allow_private_addresses: boolSetting(
          'clientMetadataDocuments.allowPrivateAddresses',
          false,
          'Client ID Metadata Documents may be fetched from private, loopback and link-local addresses (development only)',
        ),
        min_cache_seconds: secondsSetting(
          'clientMetadataDocuments.minCacheSeconds',
          [0, 86400],
          60,
          'Client ID Metadata Documents: kept at least this long, whatever Cache-Control says (s)',
        ),
        max_cache_seconds: secondsSetting(
          'clientMetadataDocuments.maxCacheSeconds',
          [1, 7 * 86400],
          86400,
          'Client ID Metadata Documents: trusted at most this long after a fetch, also when refetching fails (s)',
        ),
        max_response_bytes: intSetting(
          'clientMetadataDocuments.maxResponseBytes',
          [512, 1024 * 1024],
          5 * 1024,
          'Client ID Metadata Documents: largest document (bytes)',
          { unit: ' (bytes)' },
        ),
        connect_timeout_ms: msSetting(
          'clientMetadataDocuments.connectTimeoutMs',
          [50, 60_000],
          2000,
          'Client ID Metadata Documents: time limit of the connection (ms)',
        ),
        timeout_ms: msSetting(
          'clientMetadataDocuments.timeoutMs',
          [100, 60_000],
          5000,
          'Client ID Metadata Documents: time limit of a whole fetch (ms)',
        ),
      },
      { additionalProperties: false },
    ),
  ),
};
