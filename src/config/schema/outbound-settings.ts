/**
 * Settings of the requests the server makes itself: back-channel logout deliveries and the
 * limits of every outbound request (src/core/outbound/safe-fetch.ts). Composed into the config
 * file schema by src/config/settings-schema.ts.
 */
import { Type } from '@sinclair/typebox';
import { int, setting } from './setting-node.js';

export const OUTBOUND_SETTINGS = {
  // OpenID Connect Back-Channel Logout 1.0: delivery retries of logout tokens. 1 s, 2 s, 4 s,
  // ... then every 5 minutes: about 300 attempts make a day.
  backchannel_logout_max_attempts: setting(int(1, 10000), {
    setting: 'backchannelLogoutMaxAttempts',
    default: 300,
    doc: 'back-channel logout: delivery attempts at most',
  }),
  backchannel_logout_max_age_seconds: setting(int(1, 30 * 86400), {
    setting: 'backchannelLogoutMaxAgeSeconds',
    default: 24 * 3600,
    unit: ' (seconds)',
    doc: 'back-channel logout: delivery given up after (s)',
  }),
  backchannel_logout_backoff_initial_ms: setting(int(10, 3600_000), {
    setting: 'backchannelLogoutBackoffInitialMs',
    default: 1000,
    unit: ' (milliseconds)',
    doc: 'back-channel logout: first retry delay (ms)',
  }),
  backchannel_logout_backoff_max_ms: setting(int(10, 86400_000), {
    setting: 'backchannelLogoutBackoffMaxMs',
    default: 5 * 60 * 1000,
    unit: ' (milliseconds)',
    doc: 'back-channel logout: longest retry delay (ms)',
  }),
  backchannel_logout_timeout_ms: setting(int(100, 60_000), {
    setting: 'backchannelLogoutTimeoutMs',
    default: 5000,
    unit: ' (milliseconds)',
    doc: 'back-channel logout: time limit of one delivery (ms)',
  }),
  outbound_allow_private_addresses: setting(Type.Boolean(), {
    setting: 'outboundAllowPrivateAddresses',
    default: false,
    doc: 'outbound requests (and registered IP literals) may reach private, loopback and link-local addresses (see "Outbound requests")',
  }),
  outbound_max_response_bytes: setting(int(1024, 16 * 1024 * 1024), {
    setting: 'outboundMaxResponseBytes',
    default: 64 * 1024,
    unit: ' (bytes)',
    doc: 'largest response body of an outbound request (bytes)',
  }),
};
