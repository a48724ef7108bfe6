/**
 * Settings that bound what clients can make the server hold: unexpired interactions, the HTTP
 * server's timeouts and connections, and the brute-force limits (src/core/limits/attempt-limits.ts).
 * Composed into the config file schema by src/config/settings-schema.ts.
 */
import { Type } from '@sinclair/typebox';
import { intSetting, msSetting, secondsSetting } from './setting-node.js';

/**
 * One brute-force limit (src/core/limits/attempt-limits.ts) under `limits:`; every key may be left
 * out. `defaults`: free attempts, first delay (ms), failures that lock, lock length (s).
 */
function limit<const N extends string>(
  name: N,
  [freeAttempts, backoffBaseMs, lockAfter, lockSeconds]: readonly [number, number, number, number],
  what: string,
) {
  return Type.Optional(
    Type.Object(
      {
        free_attempts: intSetting(
          `limits.${name}.freeAttempts`,
          [0, 100_000],
          freeAttempts,
          `${what}: allowed without delay`,
        ),
        backoff_base_ms: msSetting(
          `limits.${name}.backoffBaseMs`,
          [0, 3600_000],
          backoffBaseMs,
          `${what}: first delay beyond those, doubling (ms)`,
        ),
        lock_after: intSetting(`limits.${name}.lockAfter`, [1, 1_000_000], lockAfter, `${what}: lock at`, {
          unit: ' (failures)',
        }),
        lock_seconds: secondsSetting(
          `limits.${name}.lockSeconds`,
          [1, 7 * 86400],
          lockSeconds,
          `${what}: lock length, and longest delay (s)`,
        ),
      },
      { additionalProperties: false },
    ),
  );
}

export const LIMIT_SETTINGS = {
  // A row is under 2 KiB with the value caps (state, nonce, login_hint): at most about 200 MB.
  max_live_interactions: intSetting(
    'maxLiveInteractions',
    [1, 100_000_000],
    100_000,
    'unexpired interactions (sign-in requests in progress), all addresses',
    { unit: ' (unexpired interactions)' },
  ),
  // HTTP server limits; 0 would switch a limit off (Node), so each has a positive minimum.
  // Node's own defaults are 300 s per request and 60 s for the headers, and Fastify turns the
  // request limit off; an authorization server's requests are small forms, sent at once.
  request_timeout_ms: msSetting('requestTimeoutMs', [100, 3600_000], 30_000, 'time to receive a whole request (ms)'),
  headers_timeout_ms: msSetting(
    'headersTimeoutMs',
    [100, 3600_000],
    10_000,
    "time to receive a request's headers (ms)",
    {
      special: true,
      defaultDoc: '`10000` (at most `request_timeout_ms`)',
    },
  ),
  keep_alive_timeout_ms: msSetting(
    'keepAliveTimeoutMs',
    [100, 3600_000],
    5_000,
    'idle keep-alive connection closed after (ms)',
  ),
  connection_timeout_ms: msSetting(
    'connectionTimeoutMs',
    [100, 3600_000],
    60_000,
    'connection without any traffic closed after (ms)',
  ),
  max_connections: intSetting('maxConnections', [1, 1_000_000], 10_000, 'simultaneous connections', {
    unit: ' (connections)',
  }),
  // OWASP Authentication Cheat Sheet: a lock per username alone lets anyone lock any account.
  // Per (username, address): 5 free attempts, then 1 s, 2 s, 4 s, 8 s; the 10th failure locks
  // that address out of that account for 15 min. Per IP address the allowance is larger: many
  // users may share one address (NAT, proxies). Per username (only browsers without a device
  // cookie for it, i.e. a guessing attack spread over many addresses): delays only, doubling up
  // to 60 s and never longer, so no one can lock the account. Per device cookie: its own run.
  // Client secrets are machine-held, so failures mean misconfiguration or guessing; they are
  // counted per (client_id, address), since a client_id is public (RFC 6749 §2.2).
  // 300 unfinished interactions per address are free (a busy NAT finishes most of its own; a
  // finished one is taken back), then 1 s, 2 s, ... between new ones; the 400th locks the
  // address for the interaction lifetime, so its rows expire before it may start new ones.
  limits: Type.Optional(
    Type.Object(
      {
        login_user_address: limit(
          'loginUserAddress',
          [5, 1000, 10, 900],
          'sign-in failures per (username, IP address)',
        ),
        login_username: limit(
          'loginUsername',
          [50, 1000, 100, 60],
          'sign-in failures per username, browsers without its device cookie',
        ),
        login_ip: limit('loginIp', [20, 1000, 100, 900], 'sign-in failures per IP address'),
        login_device: limit('loginDevice', [5, 1000, 10, 900], 'sign-in failures per device cookie'),
        client_id: limit('clientId', [5, 1000, 20, 300], 'client authentication failures per (client_id, IP address)'),
        client_ip: limit('clientIp', [20, 1000, 100, 300], 'client authentication failures per IP address'),
        interaction_ip: limit('interactionIp', [300, 1000, 400, 600], 'unfinished interactions per IP address'),
        // RFC 8628 §5.1: a user code has about 34.5 bits (8 characters of 20); guessing one is
        // limited per address (typos allowed, then doubling delays, a lock after 20 misses)
        // and over all addresses (delays only, never a lock that would keep every user out).
        user_code_ip: limit('userCodeIp', [5, 1000, 20, 900], 'unknown user codes entered per IP address (RFC 8628)'),
        user_code_global: limit(
          'userCodeGlobal',
          [1000, 100, 1_000_000, 60],
          'unknown user codes entered, all addresses (RFC 8628)',
        ),
        // RFC 7591 §3 (open registration): every registration writes a client, so each one is
        // counted per address: 10 free, then a minute, doubling; the 50th locks for a day.
        registration_ip: limit(
          'registrationIp',
          [10, 60_000, 50, 86400],
          'client registrations per IP address (RFC 7591)',
        ),
      },
      { additionalProperties: false },
    ),
  ),
};
