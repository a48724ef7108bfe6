/**
 * Settings of the requests the server makes itself: back-channel logout deliveries and the
 * limits of every outbound request (src/core/outbound/safe-fetch.ts). Composed into the config
 * file schema by src/config/settings-schema.ts.
 */
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
};
