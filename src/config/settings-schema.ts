/**
 * The one description of every setting: the config file schema (TypeBox, i.e. JSON Schema), and
 * on each setting its settings path, default, environment variable, CLI flag and README line.
 * Everything else is derived from it:
 *
 * - the ConfigFile type (Static<typeof CONFIG_SCHEMA>) and the config file validation
 *   (src/config/load-config.ts walks this schema; an unknown key names its path and YAML line),
 * - DEFAULT_SETTINGS (src/config/settings.ts), checked against GatehouseSettings at compile time,
 * - the flag > environment > config file > default resolution (src/config/resolve-settings.ts),
 * - the flags of `gatehouse start` (src/cli/commands/start.ts),
 * - the README settings table (scripts/settings-table.ts; test/config/readme-config.test.ts fails
 *   when the README and this schema disagree).
 *
 * Why TypeBox rather than ajv + hand-written JSON Schema: the schema is at the same time the
 * TypeScript type (Static<>), so a setting cannot be declared in one and forgotten in the other;
 * it is plain JSON Schema, the language Fastify speaks. The validation itself walks the schema
 * here rather than through a generic validator, so that every error keeps the exact wording
 * and key path operators (and the tests) rely on.
 *
 * Adding a setting: one entry below (config key, `setting` path, range, default, env, flag,
 * doc), and its field in GatehouseSettings (settings.ts); the compiler fails until both exist.
 */
import { isIP } from 'node:net';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ClientFixture, ResourceFixture, UserFixture } from './fixture-types.js';

/** The metadata a setting carries on its schema node, besides JSON Schema's `default` and `description`. */
export interface SettingMeta<V = unknown, P extends string = string> {
  /** Where it lands in GatehouseSettings (camelCase, dotted for nested settings). */
  setting: P;
  /** The README line (the `description` of the JSON Schema node). */
  doc: string;
  default?: V;
  /** The README's default column when the default is not a plain value. */
  defaultDoc?: string;
  /** Environment variable that sets it (over the config file). */
  env?: string;
  /** CLI flag (over the environment). */
  flag?: string;
  /** With it, `gatehouse start` registers the flag (src/cli/commands/start.ts); without, the flag is every store command's (src/cli/shared.ts). */
  flagHelp?: string;
  /** The README's values column when JSON Schema's type and range do not say it well. */
  valuesDoc?: string;
  /** Shown after integer range errors, e.g. ' (seconds)'. */
  unit?: string;
  /** A rule JSON Schema cannot say; returns the problem, or undefined. `config` is the file so far. */
  check?: (value: V, config: Record<string, unknown>) => string | undefined;
  /** Parses the text of a flag or variable; may throw ConfigError naming `source`. */
  parse?: (text: string, source: string) => V | undefined;
  /** resolveSettings computes it itself (it depends on other settings or reads files). */
  special?: true;
}

export const META = 'x-gatehouse' as const;
/** The values of an enum setting (Type.Enum: anyOf of const), or undefined. */
export function enumValues(schema: TSchema): string[] | undefined {
  const options = schema.anyOf as TSchema[] | undefined;
  return options?.every((option) => typeof option.const === 'string') ? options.map((option) => option.const as string) : undefined;
}

export type SettingNode = TSchema & { [META]: SettingMeta; description: string };

/** A setting: a schema node carrying its metadata; the path literal is kept for the compile-time check. */
function setting<T extends TSchema, const P extends string>(schema: T, meta: SettingMeta<Static<T>, P>) {
  const node = { ...schema, description: meta.doc, [META]: meta } as unknown as T & { readonly '~setting': P };
  if (meta.default !== undefined) (node as TSchema).default = meta.default;
  return Type.Optional(node);
}

/** A list whose items are validated by a validator of load-config.ts (`x-list`). */
function fixtureList<T>(list: 'clients' | 'users' | 'resources') {
  return Type.Optional(Type.Unsafe<T[]>({ type: 'array', items: { type: 'object' }, 'x-list': list }));
}

const int = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum });
const text = () => Type.String({ minLength: 1 });
const oneOf = <const T extends readonly string[]>(values: T) => Type.Enum(Object.fromEntries(values.map((value) => [value, value])) as { [K in T[number]]: K });

export const SIGNING_ALGS = ['ES256', 'EdDSA'] as const;
export const ID_TOKEN_DEFAULT_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
/** The values of `explain_errors`. */
export const EXPLAIN_ERRORS_MODES = ['auto', 'always', 'never'] as const;

const DATABASE_URL = /^(sqlite:|postgres:\/\/|postgresql:\/\/)/;

/** Why a metrics bearer token is unusable, or null: long enough, and sendable in a header. */
export function metricsTokenProblem(token: string): string | null {
  if (token.length < 16) return 'must be at least 16 characters (e.g. the output of: openssl rand -base64 24)';
  // RFC 6750 §2.1 b64token: the characters a Bearer credential may carry.
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) return 'may contain only letters, digits and - . _ ~ + / (and trailing =)';
  return null;
}

/** A configuration problem; the message is meant to be shown to the operator as is. */
export class ConfigError extends Error {
  /** The key path in the config file, when the error is about one key. */
  readonly keyPath: string | undefined;

  constructor(message: string, keyPath?: string) {
    super(message);
    this.name = 'ConfigError';
    this.keyPath = keyPath;
  }
}

/**
 * Checks a trust-proxy list: comma-separated IP addresses or CIDR ranges (proxy-addr syntax,
 * as Fastify's trustProxy takes it), or its names loopback, linklocal, uniquelocal. Returns the
 * problem, or undefined when the list is valid.
 */
export function trustProxyProblem(text: string): string | undefined {
  const entries = text.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) continue;
    const [address, bits, ...rest] = entry.split('/');
    const version = isIP(address ?? '');
    const maxBits = version === 6 ? 128 : 32;
    if (version === 0 || rest.length > 0 || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits))) {
      return `must list proxy IP addresses or CIDR ranges (e.g. 10.0.0.0/8, 127.0.0.1), loopback, linklocal or uniquelocal; ${JSON.stringify(entry)} is none of these`;
    }
  }
  return undefined;
}

/** `true`, `false`, a hop count or a list of proxy addresses, from a flag or variable. */
function parseTrustProxy(text: string, source: string): boolean | number | string {
  const value = text.trim();
  if (/^(true|yes|on)$/i.test(value)) return true;
  if (/^(false|no|off)$/i.test(value)) return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops < 1 || hops > 100) throw new ConfigError(`Invalid trust proxy setting from ${source}: ${value} hops (expected 1 to 100)`);
    return hops;
  }
  const problem = trustProxyProblem(value);
  if (problem !== undefined) throw new ConfigError(`Invalid trust proxy setting from ${source}: it ${problem}`);
  return value;
}

/** One brute-force limit (src/core/limits/attempt-limits.ts) under `limits:`; every key may be left out. */
function limit<const N extends string>(
  name: N,
  defaults: { freeAttempts: number; backoffBaseMs: number; lockAfter: number; lockSeconds: number },
  what: string,
) {
  return Type.Optional(
    Type.Object(
      {
        free_attempts: setting(int(0, 100_000), { setting: `limits.${name}.freeAttempts`, default: defaults.freeAttempts, doc: `${what}: allowed without delay` }),
        backoff_base_ms: setting(int(0, 3600_000), { setting: `limits.${name}.backoffBaseMs`, default: defaults.backoffBaseMs, unit: ' (milliseconds)', doc: `${what}: first delay beyond those, doubling (ms)` }),
        lock_after: setting(int(1, 1_000_000), { setting: `limits.${name}.lockAfter`, default: defaults.lockAfter, unit: ' (failures)', doc: `${what}: lock at` }),
        lock_seconds: setting(int(1, 7 * 86400), { setting: `limits.${name}.lockSeconds`, default: defaults.lockSeconds, unit: ' (seconds)', doc: `${what}: lock length, and longest delay (s)` }),
      },
      { additionalProperties: false },
    ),
  );
}

/** The config file: every key, in the order errors list them. */
export const CONFIG_SCHEMA = Type.Object(
  {
    issuer: setting(text(), {
      setting: 'issuer', special: true, env: 'GATEHOUSE_ISSUER',
      flag: '--issuer <url>', flagHelp: 'issuer URL: https, or http on a loopback host (default: $GATEHOUSE_ISSUER, the config file, or http://localhost:PORT)',
      doc: 'issuer', defaultDoc: '`http://localhost:PORT`',
    }),
    port: setting(int(0, 65535), {
      setting: 'port', default: 9001, env: 'PORT', parse: parsePort,
      flag: '-p, --port <port>', flagHelp: 'port to listen on (default: $PORT, the config file, or 9001)', doc: 'port',
    }),
    host: setting(text(), {
      setting: 'host', default: 'localhost',
      flag: '--host <host>', flagHelp: 'interface to listen on (default: the config file, or localhost)', doc: 'interface',
    }),
    database: setting(text(), {
      setting: 'databaseUrl', special: true, default: 'sqlite:./gatehouse.db', env: 'GATEHOUSE_DATABASE_URL', flag: '--database <url>', doc: 'database',
      check: (url) => (DATABASE_URL.test(url) ? undefined : `must be a database URL such as sqlite:./gatehouse.db, sqlite::memory: or postgres://user@host/db, not ${JSON.stringify(url)}`),
    }),
    signing_alg: setting(oneOf(SIGNING_ALGS), { setting: 'signingAlg', default: 'ES256', doc: 'signing algorithm of new keys (access tokens)' }),
    id_token_signed_response_alg_default: setting(oneOf(ID_TOKEN_DEFAULT_ALGS), {
      setting: 'idTokenSignedResponseAlgDefault', default: 'RS256', doc: 'ID token algorithm of a client that registers none', defaultDoc: '`RS256` (see "OpenID Connect")',
      // OpenID Connect Dynamic Client Registration §2: the ID token algorithm of clients that name none.
      check: (alg, config) => (alg === 'EdDSA' && (config.signing_alg ?? 'ES256') !== 'EdDSA' ? 'can be EdDSA only when signing_alg is EdDSA' : undefined),
    }),
    id_token_claims_default: setting(Type.Boolean(), { setting: 'idTokenClaimsDefault', default: true, doc: 'claims granted by scope also in the ID token', defaultDoc: '`true` (see "OpenID Connect")' }),
    // RFC 6749 §4.1.2: a maximum authorization code lifetime of 10 minutes is RECOMMENDED.
    code_ttl_seconds: setting(int(1, 600), { setting: 'codeTtlSeconds', default: 60, unit: ' (seconds; RFC 6749 §4.1.2 recommends at most 10 minutes)', doc: 'authorization code lifetime (s)' }),
    access_token_ttl_seconds: setting(int(1, 7 * 86400), { setting: 'accessTokenTtlSeconds', default: 3600, unit: ' (seconds)', doc: 'access token lifetime (s)' }),
    session_ttl_seconds: setting(int(1, 366 * 86400), { setting: 'sessionTtlSeconds', default: 8 * 3600, unit: ' (seconds)', doc: 'single sign-on session lifetime (s)' }),
    device_cookie_ttl_seconds: setting(int(1, 2 * 366 * 86400), { setting: 'deviceCookieTtlSeconds', default: 180 * 86400, unit: ' (seconds)', doc: 'lifetime of the device cookie set at sign-in (s)', defaultDoc: '`15552000` (180 days; see "Brute-force limits")' }),
    interaction_ttl_seconds: setting(int(30, 86400), { setting: 'interactionTtlSeconds', default: 600, unit: ' (seconds)', doc: 'time to sign in and consent (s)' }),
    refresh_token_idle_ttl_seconds: setting(int(60, 3660 * 86400), { setting: 'refreshTokenIdleTtlSeconds', default: 14 * 24 * 3600, unit: ' (seconds)', doc: 'an unused refresh token expires after (s)' }),
    refresh_token_absolute_ttl_seconds: setting(int(60, 3660 * 86400), { setting: 'refreshTokenAbsoluteTtlSeconds', default: 90 * 24 * 3600, unit: ' (seconds)', doc: 'a refresh token family ends after (s)' }),
    refresh_token_grace_seconds: setting(int(0, 300), { setting: 'refreshTokenGraceSeconds', default: 10, unit: ' (seconds; 0 disables the retry window)', doc: 'a just-rotated refresh token may be retried within (s; `0`: never)' }),
    // Twice the JWKS max-age (300 s); also jose's default JWKS cache age (createRemoteJWKSet, 10 min).
    key_activation_delay_seconds: setting(int(0, 30 * 86400), { setting: 'keyActivationDelaySeconds', default: 600, unit: ' (seconds)', doc: '`keys rotate`: a new key is published this long before it signs (s)' }),
    // OpenID Connect Back-Channel Logout 1.0: delivery retries of logout tokens. 1 s, 2 s, 4 s,
    // ... then every 5 minutes: about 300 attempts make a day.
    backchannel_logout_max_attempts: setting(int(1, 10000), { setting: 'backchannelLogoutMaxAttempts', default: 300, doc: 'back-channel logout: delivery attempts at most' }),
    backchannel_logout_max_age_seconds: setting(int(1, 30 * 86400), { setting: 'backchannelLogoutMaxAgeSeconds', default: 24 * 3600, unit: ' (seconds)', doc: 'back-channel logout: delivery given up after (s)' }),
    backchannel_logout_backoff_initial_ms: setting(int(10, 3600_000), { setting: 'backchannelLogoutBackoffInitialMs', default: 1000, unit: ' (milliseconds)', doc: 'back-channel logout: first retry delay (ms)' }),
    backchannel_logout_backoff_max_ms: setting(int(10, 86400_000), { setting: 'backchannelLogoutBackoffMaxMs', default: 5 * 60 * 1000, unit: ' (milliseconds)', doc: 'back-channel logout: longest retry delay (ms)' }),
    backchannel_logout_timeout_ms: setting(int(100, 60_000), { setting: 'backchannelLogoutTimeoutMs', default: 5000, unit: ' (milliseconds)', doc: 'back-channel logout: time limit of one delivery (ms)' }),
    outbound_allow_private_addresses: setting(Type.Boolean(), { setting: 'outboundAllowPrivateAddresses', default: false, doc: 'outbound requests (and registered IP literals) may reach private, loopback and link-local addresses (see "Outbound requests")' }),
    outbound_max_response_bytes: setting(int(1024, 16 * 1024 * 1024), { setting: 'outboundMaxResponseBytes', default: 64 * 1024, unit: ' (bytes)', doc: 'largest response body of an outbound request (bytes)' }),
    metrics_token: setting(text(), {
      setting: 'metricsToken', env: 'GATEHOUSE_METRICS_TOKEN', doc: 'bearer token for `GET /metrics`', defaultDoc: 'none: `/metrics` answers 404',
      check: (token) => metricsTokenProblem(token) ?? undefined,
      parse: (token, source) => {
        const problem = metricsTokenProblem(token);
        if (problem) throw new ConfigError(`${source} ${problem}`);
        return token;
      },
    }),
    // Scale-out: how stale a cached client may be at most, and the cleanup of expired rows.
    client_cache_ttl_seconds: setting(int(0, 300), { setting: 'clientCacheTtlSeconds', default: 5, unit: ' (seconds; 0 disables the client and resource cache)', doc: 'an instance may use a cached client or resource for (s; `0`: no cache)' }),
    cleanup_interval_seconds: setting(int(0, 86400), { setting: 'cleanupIntervalSeconds', default: 60, unit: ' (seconds; 0 disables the periodic cleanup)', doc: 'expired rows deleted every (s; `0`: never)' }),
    cleanup_batch_size: setting(int(1, 100_000), { setting: 'cleanupBatchSize', default: 500, unit: ' (rows per DELETE statement)', doc: 'rows per cleanup DELETE statement' }),
    audit_retention_days: setting(int(0, 36600), { setting: 'auditRetentionDays', default: 90, unit: ' (days; 0 keeps the audit trail for ever)', doc: 'days the audit trail is kept', defaultDoc: '`90` (`0`: for ever; see "Audit trail")' }),
    tls_cert: setting(text(), {
      setting: 'tls.certFile', special: true, env: 'GATEHOUSE_TLS_CERT', doc: 'HTTPS certificate (chain), a PEM file (relative to the config file)', defaultDoc: 'none: plain http',
      flag: '--tls-cert <file>', flagHelp: 'serve HTTPS with this PEM certificate (chain) (default: $GATEHOUSE_TLS_CERT or the config file tls_cert)',
    }),
    tls_key: setting(text(), {
      setting: 'tls.keyFile', special: true, env: 'GATEHOUSE_TLS_KEY', doc: 'HTTPS private key, a PEM file (relative to the config file)', defaultDoc: 'none: plain http',
      flag: '--tls-key <file>', flagHelp: 'the PEM private key of --tls-cert (default: $GATEHOUSE_TLS_KEY or the config file tls_key)',
    }),
    // Checked by load-config.ts (trustProxyProblem): a list is joined with commas.
    trust_proxy: setting(
      // A list is joined with commas, so the validated value is boolean | number | string.
      Type.Union([Type.Boolean(), Type.Integer({ minimum: 1, maximum: 100 }), Type.String(), Type.Array(Type.String())], { 'x-trust-proxy': true }),
      {
        setting: 'trustProxy', default: false, valuesDoc: '`true`, `false`, 1 to 100 (hops), or addresses/CIDR ranges (a list, or comma-separated)', env: 'GATEHOUSE_TRUST_PROXY', parse: parseTrustProxy, doc: 'trusted proxies: `true`, a hop count, or addresses/CIDR ranges',
        flag: '--trust-proxy <proxies>', flagHelp: 'behind a TLS terminator: honour X-Forwarded-For/-Proto from true (any), a hop count, or comma-separated addresses/CIDRs (default: $GATEHOUSE_TRUST_PROXY, the config file, or false)',
      },
    ),
    allow_http_issuer: setting(Type.Boolean(), {
      setting: 'allowHttpIssuer', default: false, env: 'GATEHOUSE_ALLOW_HTTP_ISSUER', doc: 'plain-http issuer on a non-loopback host', defaultDoc: 'refused',
      flag: '--allow-http-issuer', flagHelp: 'accept a plain http issuer on a non-loopback host (insecure; private test networks only)',
      // Any source that says true turns it on; a false one overrides nothing.
      parse: (value) => (['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase()) ? true : undefined),
    }),
    explain_errors: setting(oneOf(EXPLAIN_ERRORS_MODES), {
      setting: 'explainErrors', default: 'auto', env: 'GATEHOUSE_EXPLAIN_ERRORS', doc: 'developer details on redirect_uri error pages ("Error messages")', defaultDoc: '`auto`: on for a loopback issuer only',
      flag: '--explain-errors <mode>', flagHelp: 'show registered redirect URIs and the side-by-side comparison on redirect_uri error pages: auto (loopback issuer only), always or never (default: $GATEHOUSE_EXPLAIN_ERRORS, the config file, or auto)',
      parse: (value, source) => {
        const mode = value.trim().toLowerCase();
        if ((EXPLAIN_ERRORS_MODES as readonly string[]).includes(mode)) return mode as (typeof EXPLAIN_ERRORS_MODES)[number];
        throw new ConfigError(`Invalid ${source}: it must be one of ${EXPLAIN_ERRORS_MODES.join(', ')}, not the string ${JSON.stringify(mode)}`);
      },
    }),
    // A row is under 2 KiB with the value caps (state, nonce, login_hint): at most about 200 MB.
    max_live_interactions: setting(int(1, 100_000_000), { setting: 'maxLiveInteractions', default: 100_000, unit: ' (unexpired interactions)', doc: 'unexpired interactions (sign-in requests in progress), all addresses' }),
    // HTTP server limits; 0 would switch a limit off (Node), so each has a positive minimum.
    // Node's own defaults are 300 s per request and 60 s for the headers, and Fastify turns the
    // request limit off; an authorization server's requests are small forms, sent at once.
    request_timeout_ms: setting(int(100, 3600_000), { setting: 'requestTimeoutMs', default: 30_000, unit: ' (milliseconds)', doc: 'time to receive a whole request (ms)' }),
    headers_timeout_ms: setting(int(100, 3600_000), { setting: 'headersTimeoutMs', special: true, default: 10_000, unit: ' (milliseconds)', doc: "time to receive a request's headers (ms)", defaultDoc: '`10000` (at most `request_timeout_ms`)' }),
    keep_alive_timeout_ms: setting(int(100, 3600_000), { setting: 'keepAliveTimeoutMs', default: 5_000, unit: ' (milliseconds)', doc: 'idle keep-alive connection closed after (ms)' }),
    connection_timeout_ms: setting(int(100, 3600_000), { setting: 'connectionTimeoutMs', default: 60_000, unit: ' (milliseconds)', doc: 'connection without any traffic closed after (ms)' }),
    max_connections: setting(int(1, 1_000_000), { setting: 'maxConnections', default: 10_000, unit: ' (connections)', doc: 'simultaneous connections' }),
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
          login_user_address: limit('loginUserAddress', { freeAttempts: 5, backoffBaseMs: 1000, lockAfter: 10, lockSeconds: 900 }, 'sign-in failures per (username, IP address)'),
          login_username: limit('loginUsername', { freeAttempts: 50, backoffBaseMs: 1000, lockAfter: 100, lockSeconds: 60 }, 'sign-in failures per username, browsers without its device cookie'),
          login_ip: limit('loginIp', { freeAttempts: 20, backoffBaseMs: 1000, lockAfter: 100, lockSeconds: 900 }, 'sign-in failures per IP address'),
          login_device: limit('loginDevice', { freeAttempts: 5, backoffBaseMs: 1000, lockAfter: 10, lockSeconds: 900 }, 'sign-in failures per device cookie'),
          client_id: limit('clientId', { freeAttempts: 5, backoffBaseMs: 1000, lockAfter: 20, lockSeconds: 300 }, 'client authentication failures per (client_id, IP address)'),
          client_ip: limit('clientIp', { freeAttempts: 20, backoffBaseMs: 1000, lockAfter: 100, lockSeconds: 300 }, 'client authentication failures per IP address'),
          interaction_ip: limit('interactionIp', { freeAttempts: 300, backoffBaseMs: 1000, lockAfter: 400, lockSeconds: 600 }, 'unfinished interactions per IP address'),
        },
        { additionalProperties: false },
      ),
    ),
    resources: fixtureList<ResourceFixture>('resources'),
    clients: fixtureList<ClientFixture>('clients'),
    users: fixtureList<UserFixture>('users'),
  },
  { additionalProperties: false },
);

/** A validated config file (snake_case keys, as written). */
export type ConfigFile = Static<typeof CONFIG_SCHEMA>;

/** Settings that are no config file key: the secret, and the config file itself. */
export const OTHER_SETTINGS: readonly (SettingMeta & { key?: undefined })[] = [
  { setting: 'secret', doc: 'secret', env: 'GATEHOUSE_SECRET', special: true, defaultDoc: 'a generated `./.gatehouse-secret` (development only)' },
  { setting: '', doc: 'config file', env: 'GATEHOUSE_CONFIG', flag: '-c, --config <file>', special: true, defaultDoc: 'none' },
];


function parsePort(value: string, source: string): number {
  const trimmed = value.trim();
  const port = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`Invalid port from ${source}: ${JSON.stringify(value)} (expected an integer from 0 to 65535)`);
  }
  return port;
}

/** One setting of the schema, with its config file key path (`limits.login_ip.free_attempts`). */
export interface SettingEntry {
  key: string;
  schema: SettingNode;
  meta: SettingMeta;
}

function collect(schema: TSchema, prefix: string, into: SettingEntry[]): SettingEntry[] {
  for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    if (child[META]) into.push({ key, schema: child as SettingNode, meta: child[META] as SettingMeta });
    else if (child.type === 'object' && child.properties) collect(child, key, into);
  }
  return into;
}

/** Every setting of the config file, in schema order. */
export const SETTINGS: readonly SettingEntry[] = collect(CONFIG_SCHEMA, '', []);

// ---- Compile-time: the schema and GatehouseSettings name the same settings. ----

/** The `setting` paths the schema declares (from the `~setting` brands of its nodes). */
type SchemaPaths<S> = S extends { readonly '~setting': infer P } ? P : S extends { properties: infer Props } ? { [K in keyof Props]: SchemaPaths<Props[K]> }[keyof Props] : never;
export type SchemaSettingPath = SchemaPaths<typeof CONFIG_SCHEMA> | 'secret';
