/**
 * Settings of running the server: the metrics endpoint, the client cache of scaled-out
 * instances, the cleanup of expired rows and the audit trail's retention. Composed into the
 * config file schema by src/config/settings-schema.ts.
 */
import { ConfigError } from './config-error.js';
import { intSetting, secondsSetting, setting, text } from './setting-node.js';

/** Why a metrics bearer token is unusable, or null: long enough, and sendable in a header. */
export function metricsTokenProblem(token: string): string | null {
  if (token.length < 16) return 'must be at least 16 characters (e.g. the output of: openssl rand -base64 24)';
  // RFC 6750 §2.1 b64token: the characters a Bearer credential may carry.
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token))
    return 'may contain only letters, digits and - . _ ~ + / (and trailing =)';
  return null;
}

export const OPERATIONS_SETTINGS = {
  metrics_token: setting(text(), {
    setting: 'metricsToken',
    env: 'GATEHOUSE_METRICS_TOKEN',
    doc: 'bearer token for `GET /metrics`',
    defaultDoc: 'none: `/metrics` answers 404',
    check: (token) => metricsTokenProblem(token) ?? undefined,
    parse: (token, source) => {
      const problem = metricsTokenProblem(token);
      if (problem) throw new ConfigError(`${source} ${problem}`);
      return token;
    },
  }),
  // Scale-out: how stale a cached client may be at most, and the cleanup of expired rows.
  client_cache_ttl_seconds: secondsSetting(
    'clientCacheTtlSeconds',
    [0, 300],
    5,
    'an instance may use a cached client or resource for (s; `0`: no cache)',
    { unit: ' (seconds; 0 disables the client and resource cache)' },
  ),
  cleanup_interval_seconds: secondsSetting(
    'cleanupIntervalSeconds',
    [0, 86400],
    60,
    'expired rows deleted every (s; `0`: never)',
    {
      unit: ' (seconds; 0 disables the periodic cleanup)',
    },
  ),
  cleanup_batch_size: intSetting('cleanupBatchSize', [1, 100_000], 500, 'rows per cleanup DELETE statement', {
    unit: ' (rows per DELETE statement)',
  }),
  audit_retention_days: intSetting('auditRetentionDays', [0, 36600], 90, 'days the audit trail is kept', {
    unit: ' (days; 0 keeps the audit trail for ever)',
    defaultDoc: '`90` (`0`: for ever; see "Audit trail")',
  }),
};
