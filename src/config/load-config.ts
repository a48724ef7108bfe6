/**
 * Reads and validates a Gatehouse config file (YAML or JSON). Validation is by hand so that
 * every error names the exact key path (e.g. `clients[1].redirect_uris[0]`) and what is
 * expected there. Clients are validated by the same rules as every other registration
 * (src/core/client-metadata.ts).
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { CLIENT_METADATA_FIELDS, ClientMetadataError, validateClientMetadata } from '../core/client-metadata.js';
import type { OutboundPolicy } from '../core/outbound/safe-fetch.js';
import { SETTABLE_CLAIMS, UserClaimError, isEmailAddress, validateUserClaims } from '../core/user-claims.js';
import { EXPLAIN_ERRORS_MODES, type ClientFixture, type ExplainErrors, type ResourceFixture, type UserFixture } from './settings.js';

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

export interface ConfigFile {
  issuer?: string;
  port?: number;
  host?: string;
  /** Database URL: `sqlite:PATH`, `sqlite::memory:` or `postgres://...`. */
  database?: string;
  signing_alg?: 'ES256' | 'EdDSA';
  id_token_signed_response_alg_default?: 'RS256' | 'ES256' | 'EdDSA';
  id_token_claims_default?: boolean;
  code_ttl_seconds?: number;
  access_token_ttl_seconds?: number;
  session_ttl_seconds?: number;
  /** Lifetime of the device cookie a successful sign-in sets (OWASP device cookies). */
  device_cookie_ttl_seconds?: number;
  interaction_ttl_seconds?: number;
  refresh_token_idle_ttl_seconds?: number;
  refresh_token_absolute_ttl_seconds?: number;
  refresh_token_grace_seconds?: number;
  key_activation_delay_seconds?: number;
  backchannel_logout_max_attempts?: number;
  backchannel_logout_max_age_seconds?: number;
  backchannel_logout_backoff_initial_ms?: number;
  backchannel_logout_backoff_max_ms?: number;
  backchannel_logout_timeout_ms?: number;
  outbound_allow_private_addresses?: boolean;
  outbound_max_response_bytes?: number;
  /** Bearer token that unlocks GET /metrics (absent: /metrics is disabled). */
  metrics_token?: string;
  client_cache_ttl_seconds?: number;
  cleanup_interval_seconds?: number;
  cleanup_batch_size?: number;
  /** Days an audit event is kept; 0: for ever. */
  audit_retention_days?: number;
  /** Built-in HTTPS: PEM files, relative to the config file. */
  tls_cert?: string;
  tls_key?: string;
  /** true, a hop count, or addresses/CIDR ranges (a list or a comma-separated string). */
  trust_proxy?: boolean | number | string;
  allow_http_issuer?: boolean;
  /** auto (loopback issuer only), always or never: developer details on redirect_uri error pages. */
  explain_errors?: ExplainErrors;
  max_live_interactions?: number;
  request_timeout_ms?: number;
  headers_timeout_ms?: number;
  keep_alive_timeout_ms?: number;
  connection_timeout_ms?: number;
  max_connections?: number;
  /** Brute-force limits; each limit and each of its keys may be left out (defaults apply). */
  limits?: Partial<Record<LimitName, Partial<LimitConfig>>>;
  resources?: ResourceFixture[];
  /** Client fixtures, validated and with defaults applied. */
  clients?: ClientFixture[];
  users?: UserFixture[];
}

/** Every top-level key of a config file (README.md documents each). */
export const TOP_LEVEL_KEYS = [
  'issuer',
  'port',
  'host',
  'database',
  'signing_alg',
  'id_token_signed_response_alg_default',
  'id_token_claims_default',
  'code_ttl_seconds',
  'access_token_ttl_seconds',
  'session_ttl_seconds',
  'device_cookie_ttl_seconds',
  'interaction_ttl_seconds',
  'refresh_token_idle_ttl_seconds',
  'refresh_token_absolute_ttl_seconds',
  'refresh_token_grace_seconds',
  'key_activation_delay_seconds',
  'backchannel_logout_max_attempts',
  'backchannel_logout_max_age_seconds',
  'backchannel_logout_backoff_initial_ms',
  'backchannel_logout_backoff_max_ms',
  'backchannel_logout_timeout_ms',
  'outbound_allow_private_addresses',
  'outbound_max_response_bytes',
  'metrics_token',
  'client_cache_ttl_seconds',
  'cleanup_interval_seconds',
  'cleanup_batch_size',
  'audit_retention_days',
  'tls_cert',
  'tls_key',
  'trust_proxy',
  'allow_http_issuer',
  'explain_errors',
  'max_live_interactions',
  'request_timeout_ms',
  'headers_timeout_ms',
  'keep_alive_timeout_ms',
  'connection_timeout_ms',
  'max_connections',
  'limits',
  'resources',
  'clients',
  'users',
] as const;
// OpenID Connect Core §5.1 standard claims besides the login credentials.
export const USER_KEYS = ['username', 'password', 'email', 'name', ...SETTABLE_CLAIMS] as const;
/** The brute-force limits (src/core/limits.ts) under `limits:`, and the keys of each. */
export const LIMIT_NAMES = ['login_user_address', 'login_username', 'login_ip', 'login_device', 'client_id', 'client_ip', 'interaction_ip'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];
const LIMIT_KEYS = ['free_attempts', 'backoff_base_ms', 'lock_after', 'lock_seconds'] as const;
export type LimitConfig = Record<(typeof LIMIT_KEYS)[number], number>;
const RESOURCE_KEYS = ['resource', 'name', 'scopes', 'introspection_client_ids'] as const;
const SIGNING_ALGS = ['ES256', 'EdDSA'] as const;
const ID_TOKEN_DEFAULT_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return `a ${typeof value}`;
}

/** Joins a key path: `clients[1]` + `redirect_uris[0]`. */
function joinPath(base: string, field: string): string {
  if (field === '') return base;
  if (base === '') return field;
  return field.startsWith('[') ? `${base}${field}` : `${base}.${field}`;
}

class Validator {
  constructor(private readonly file: string) {}

  error(keyPath: string, message: string): ConfigError {
    const where = keyPath === '' ? '' : ` ${keyPath}`;
    return new ConfigError(`Invalid config file ${this.file}:${where} ${message}`, keyPath);
  }

  checkKeys(value: Record<string, unknown>, allowed: readonly string[], base: string): void {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) {
        throw this.error(joinPath(base, key), `is not a known key (expected one of: ${allowed.join(', ')})`);
      }
    }
  }

  string(value: unknown, keyPath: string, options: { nonEmpty?: boolean } = {}): string {
    if (typeof value !== 'string') throw this.error(keyPath, `must be a string, not ${describe(value)}`);
    if (options.nonEmpty && value.trim() === '') throw this.error(keyPath, 'must be a non-empty string');
    return value;
  }

  integer(value: unknown, keyPath: string, min: number, max: number, unit = ''): number {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw this.error(keyPath, `must be an integer${unit}, not ${describe(value)}`);
    }
    if (value < min || value > max) throw this.error(keyPath, `must be between ${min} and ${max}${unit}, not ${value}`);
    return value;
  }
}

/** Parses the text of a config file; `.json` as JSON, anything else as YAML (a superset of JSON). */
export function parseConfigText(text: string, file: string): unknown {
  if (extname(file).toLowerCase() === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ConfigError(`Invalid config file ${file}: not valid JSON (${(error as Error).message})`);
    }
  }
  const document = parseDocument(text);
  const [first] = document.errors;
  if (first) {
    const line = first.linePos?.[0];
    const where = line ? ` at line ${line.line}, column ${line.col}` : '';
    // The pretty message repeats the position and adds a source excerpt; keep the first clause.
    const message = (first.message.split('\n')[0] ?? first.message).replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`Invalid config file ${file}: not valid YAML${where} (${message})`);
  }
  return document.toJS() as unknown;
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

/** Validates parsed config data; `file` is only used in error messages. */
export function validateConfig(data: unknown, file: string): ConfigFile {
  const v = new Validator(file);
  // An empty YAML document is an empty configuration.
  if (data === null || data === undefined) return {};
  if (!isRecord(data)) throw v.error('', `must contain a mapping of settings at the top level, not ${describe(data)}`);
  v.checkKeys(data, TOP_LEVEL_KEYS, '');

  const config: ConfigFile = {};
  if (data.issuer !== undefined) config.issuer = v.string(data.issuer, 'issuer', { nonEmpty: true });
  if (data.port !== undefined) config.port = v.integer(data.port, 'port', 0, 65535);
  if (data.host !== undefined) config.host = v.string(data.host, 'host', { nonEmpty: true });
  if (data.database !== undefined) {
    const database = v.string(data.database, 'database', { nonEmpty: true });
    if (!/^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(database)) {
      throw v.error('database', `must be a database URL such as sqlite:./gatehouse.db, sqlite::memory: or postgres://user@host/db, not ${JSON.stringify(database)}`);
    }
    config.database = database;
  }
  if (data.signing_alg !== undefined) {
    const alg = v.string(data.signing_alg, 'signing_alg');
    if (!(SIGNING_ALGS as readonly string[]).includes(alg)) {
      throw v.error('signing_alg', `must be one of ${SIGNING_ALGS.join(', ')}, not ${JSON.stringify(alg)}`);
    }
    config.signing_alg = alg as ConfigFile['signing_alg'];
  }
  // OpenID Connect Dynamic Client Registration §2: the ID token algorithm of clients that name none.
  if (data.id_token_signed_response_alg_default !== undefined) {
    const alg = v.string(data.id_token_signed_response_alg_default, 'id_token_signed_response_alg_default');
    if (!(ID_TOKEN_DEFAULT_ALGS as readonly string[]).includes(alg)) {
      throw v.error('id_token_signed_response_alg_default', `must be one of ${ID_TOKEN_DEFAULT_ALGS.join(', ')}, not ${JSON.stringify(alg)}`);
    }
    if (alg === 'EdDSA' && (config.signing_alg ?? 'ES256') !== 'EdDSA') {
      throw v.error('id_token_signed_response_alg_default', 'can be EdDSA only when signing_alg is EdDSA');
    }
    config.id_token_signed_response_alg_default = alg as ConfigFile['id_token_signed_response_alg_default'];
  }
  if (data.id_token_claims_default !== undefined) {
    if (typeof data.id_token_claims_default !== 'boolean') throw v.error('id_token_claims_default', `must be true or false, not ${describe(data.id_token_claims_default)}`);
    config.id_token_claims_default = data.id_token_claims_default;
  }
  // RFC 6749 §4.1.2: a maximum authorization code lifetime of 10 minutes is RECOMMENDED.
  if (data.code_ttl_seconds !== undefined) {
    config.code_ttl_seconds = v.integer(data.code_ttl_seconds, 'code_ttl_seconds', 1, 600, ' (seconds; RFC 6749 §4.1.2 recommends at most 10 minutes)');
  }
  if (data.access_token_ttl_seconds !== undefined) {
    config.access_token_ttl_seconds = v.integer(data.access_token_ttl_seconds, 'access_token_ttl_seconds', 1, 7 * 86400, ' (seconds)');
  }
  if (data.device_cookie_ttl_seconds !== undefined) {
    config.device_cookie_ttl_seconds = v.integer(data.device_cookie_ttl_seconds, 'device_cookie_ttl_seconds', 1, 2 * 366 * 86400, ' (seconds)');
  }
  if (data.session_ttl_seconds !== undefined) {
    config.session_ttl_seconds = v.integer(data.session_ttl_seconds, 'session_ttl_seconds', 1, 366 * 86400, ' (seconds)');
  }
  if (data.interaction_ttl_seconds !== undefined) {
    config.interaction_ttl_seconds = v.integer(data.interaction_ttl_seconds, 'interaction_ttl_seconds', 30, 86400, ' (seconds)');
  }
  if (data.refresh_token_idle_ttl_seconds !== undefined) {
    config.refresh_token_idle_ttl_seconds = v.integer(data.refresh_token_idle_ttl_seconds, 'refresh_token_idle_ttl_seconds', 60, 3660 * 86400, ' (seconds)');
  }
  if (data.refresh_token_absolute_ttl_seconds !== undefined) {
    config.refresh_token_absolute_ttl_seconds = v.integer(data.refresh_token_absolute_ttl_seconds, 'refresh_token_absolute_ttl_seconds', 60, 3660 * 86400, ' (seconds)');
  }
  if (data.refresh_token_grace_seconds !== undefined) {
    config.refresh_token_grace_seconds = v.integer(data.refresh_token_grace_seconds, 'refresh_token_grace_seconds', 0, 300, ' (seconds; 0 disables the retry window)');
  }
  // OpenID Connect Back-Channel Logout 1.0: delivery retries of logout tokens.
  if (data.backchannel_logout_max_attempts !== undefined) {
    config.backchannel_logout_max_attempts = v.integer(data.backchannel_logout_max_attempts, 'backchannel_logout_max_attempts', 1, 10000);
  }
  if (data.backchannel_logout_max_age_seconds !== undefined) {
    config.backchannel_logout_max_age_seconds = v.integer(data.backchannel_logout_max_age_seconds, 'backchannel_logout_max_age_seconds', 1, 30 * 86400, ' (seconds)');
  }
  if (data.backchannel_logout_backoff_initial_ms !== undefined) {
    config.backchannel_logout_backoff_initial_ms = v.integer(data.backchannel_logout_backoff_initial_ms, 'backchannel_logout_backoff_initial_ms', 10, 3600_000, ' (milliseconds)');
  }
  if (data.backchannel_logout_backoff_max_ms !== undefined) {
    config.backchannel_logout_backoff_max_ms = v.integer(data.backchannel_logout_backoff_max_ms, 'backchannel_logout_backoff_max_ms', 10, 86400_000, ' (milliseconds)');
  }
  if (data.backchannel_logout_timeout_ms !== undefined) {
    config.backchannel_logout_timeout_ms = v.integer(data.backchannel_logout_timeout_ms, 'backchannel_logout_timeout_ms', 100, 60_000, ' (milliseconds)');
  }
  if (data.outbound_allow_private_addresses !== undefined) {
    if (typeof data.outbound_allow_private_addresses !== 'boolean') {
      throw v.error('outbound_allow_private_addresses', `must be true or false, not ${describe(data.outbound_allow_private_addresses)}`);
    }
    config.outbound_allow_private_addresses = data.outbound_allow_private_addresses;
  }
  if (data.outbound_max_response_bytes !== undefined) {
    config.outbound_max_response_bytes = v.integer(data.outbound_max_response_bytes, 'outbound_max_response_bytes', 1024, 16 * 1024 * 1024, ' (bytes)');
  }
  if (data.key_activation_delay_seconds !== undefined) {
    config.key_activation_delay_seconds = v.integer(data.key_activation_delay_seconds, 'key_activation_delay_seconds', 0, 30 * 86400, ' (seconds)');
  }
  if (data.metrics_token !== undefined) {
    const token = v.string(data.metrics_token, 'metrics_token', { nonEmpty: true });
    const problem = metricsTokenProblem(token);
    if (problem) throw v.error('metrics_token', problem);
    config.metrics_token = token;
  }
  // Scale-out: how stale a cached client may be at most, and the cleanup of expired rows.
  if (data.client_cache_ttl_seconds !== undefined) {
    config.client_cache_ttl_seconds = v.integer(data.client_cache_ttl_seconds, 'client_cache_ttl_seconds', 0, 300, ' (seconds; 0 disables the client and resource cache)');
  }
  if (data.cleanup_interval_seconds !== undefined) {
    config.cleanup_interval_seconds = v.integer(data.cleanup_interval_seconds, 'cleanup_interval_seconds', 0, 86400, ' (seconds; 0 disables the periodic cleanup)');
  }
  if (data.cleanup_batch_size !== undefined) {
    config.cleanup_batch_size = v.integer(data.cleanup_batch_size, 'cleanup_batch_size', 1, 100_000, ' (rows per DELETE statement)');
  }
  if (data.audit_retention_days !== undefined) {
    config.audit_retention_days = v.integer(data.audit_retention_days, 'audit_retention_days', 0, 36600, ' (days; 0 keeps the audit trail for ever)');
  }
  if (data.tls_cert !== undefined) config.tls_cert = v.string(data.tls_cert, 'tls_cert', { nonEmpty: true });
  if (data.tls_key !== undefined) config.tls_key = v.string(data.tls_key, 'tls_key', { nonEmpty: true });
  if (data.trust_proxy !== undefined) {
    const value = data.trust_proxy;
    if (typeof value === 'boolean') config.trust_proxy = value;
    else if (typeof value === 'number') config.trust_proxy = v.integer(value, 'trust_proxy', 1, 100, ' (proxy hops)');
    else if (typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'))) {
      const text = Array.isArray(value) ? value.join(',') : value;
      const problem = trustProxyProblem(text);
      if (problem !== undefined) throw v.error('trust_proxy', problem);
      config.trust_proxy = text;
    } else {
      throw v.error('trust_proxy', `must be true, false, a number of proxy hops, or a list of proxy addresses or CIDR ranges, not ${describe(value)}`);
    }
  }
  if (data.allow_http_issuer !== undefined) {
    if (typeof data.allow_http_issuer !== 'boolean') throw v.error('allow_http_issuer', `must be true or false, not ${describe(data.allow_http_issuer)}`);
    config.allow_http_issuer = data.allow_http_issuer;
  }
  if (data.explain_errors !== undefined) {
    const problem = explainErrorsProblem(data.explain_errors);
    if (problem !== undefined) throw v.error('explain_errors', problem);
    config.explain_errors = data.explain_errors as ExplainErrors;
  }
  if (data.max_live_interactions !== undefined) {
    config.max_live_interactions = v.integer(data.max_live_interactions, 'max_live_interactions', 1, 100_000_000, ' (unexpired interactions)');
  }
  // HTTP server limits; 0 would switch a limit off (Node), so each has a positive minimum.
  if (data.request_timeout_ms !== undefined) {
    config.request_timeout_ms = v.integer(data.request_timeout_ms, 'request_timeout_ms', 100, 3600_000, ' (milliseconds)');
  }
  if (data.headers_timeout_ms !== undefined) {
    config.headers_timeout_ms = v.integer(data.headers_timeout_ms, 'headers_timeout_ms', 100, 3600_000, ' (milliseconds)');
  }
  if (data.keep_alive_timeout_ms !== undefined) {
    config.keep_alive_timeout_ms = v.integer(data.keep_alive_timeout_ms, 'keep_alive_timeout_ms', 100, 3600_000, ' (milliseconds)');
  }
  if (data.connection_timeout_ms !== undefined) {
    config.connection_timeout_ms = v.integer(data.connection_timeout_ms, 'connection_timeout_ms', 100, 3600_000, ' (milliseconds)');
  }
  if (data.max_connections !== undefined) config.max_connections = v.integer(data.max_connections, 'max_connections', 1, 1_000_000, ' (connections)');
  if (data.limits !== undefined) config.limits = validateLimits(v, data.limits);
  if (data.resources !== undefined) config.resources = validateResources(v, data.resources);
  if (data.clients !== undefined) config.clients = validateClients(v, data.clients, { allowPrivateAddresses: config.outbound_allow_private_addresses === true });
  if (data.users !== undefined) config.users = validateUsers(v, data.users);
  return config;
}

/** Why a value of explain_errors (config file or GATEHOUSE_EXPLAIN_ERRORS) is invalid, or undefined. */
export function explainErrorsProblem(value: unknown): string | undefined {
  if (typeof value === 'string' && (EXPLAIN_ERRORS_MODES as readonly string[]).includes(value)) return undefined;
  return `must be one of ${EXPLAIN_ERRORS_MODES.join(', ')}, not ${describe(value)}`;
}

/** Why a metrics bearer token is unusable, or null: long enough, and sendable in a header. */
export function metricsTokenProblem(token: string): string | null {
  if (token.length < 16) return 'must be at least 16 characters (e.g. the output of: openssl rand -base64 24)';
  // RFC 6750 §2.1 b64token: the characters a Bearer credential may carry.
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) return 'may contain only letters, digits and - . _ ~ + / (and trailing =)';
  return null;
}

function validateClients(v: Validator, value: unknown, outbound: OutboundPolicy): ClientFixture[] {
  if (!Array.isArray(value)) throw v.error('clients', `must be a list of client metadata mappings, not ${describe(value)}`);
  const seen = new Map<string, number>();
  return value.map((item, index) => {
    const base = `clients[${index}]`;
    if (!isRecord(item)) throw v.error(base, `must be a mapping of client metadata, not ${describe(item)}`);
    v.checkKeys(item, CLIENT_METADATA_FIELDS, base);
    // Fixtures are applied idempotently by client_id, so it cannot be generated here.
    if (item.client_id === undefined) throw v.error(joinPath(base, 'client_id'), 'is required for a client in the config file');
    let validated;
    try {
      validated = validateClientMetadata(item, outbound);
    } catch (error) {
      if (error instanceof ClientMetadataError) throw v.error(joinPath(base, error.field), `is invalid: ${error.message}`);
      throw error;
    }
    const clientId = validated.client_id as string;
    const previous = seen.get(clientId);
    if (previous !== undefined) {
      throw v.error(joinPath(base, 'client_id'), `duplicates clients[${previous}].client_id ${JSON.stringify(clientId)}`);
    }
    seen.set(clientId, index);
    if (validated.token_endpoint_auth_method !== 'none' && validated.client_secret === undefined) {
      throw v.error(
        joinPath(base, 'client_secret'),
        'is required for a confidential client in the config file (it could never authenticate otherwise); or set token_endpoint_auth_method: none for a public client',
      );
    }
    const fixture: ClientFixture = {
      client_id: clientId,
      redirect_uris: validated.redirect_uris,
      grant_types: validated.grant_types,
      response_types: validated.response_types,
      token_endpoint_auth_method: validated.token_endpoint_auth_method,
      scope: validated.scope,
      require_pkce: validated.require_pkce,
    };
    if (validated.client_secret !== undefined) fixture.client_secret = validated.client_secret;
    if (validated.client_name !== undefined) fixture.client_name = validated.client_name;
    if (validated.id_token_signed_response_alg !== undefined) fixture.id_token_signed_response_alg = validated.id_token_signed_response_alg;
    if (validated.id_token_claims !== undefined) fixture.id_token_claims = validated.id_token_claims;
    if (validated.subject_type !== 'public') fixture.subject_type = validated.subject_type;
    if (validated.post_logout_redirect_uris.length > 0) fixture.post_logout_redirect_uris = validated.post_logout_redirect_uris;
    if (validated.backchannel_logout_uri !== undefined) {
      fixture.backchannel_logout_uri = validated.backchannel_logout_uri;
      fixture.backchannel_logout_session_required = validated.backchannel_logout_session_required;
    }
    return fixture;
  });
}

function validateLimits(v: Validator, value: unknown): NonNullable<ConfigFile['limits']> {
  if (!isRecord(value)) throw v.error('limits', `must be a mapping of ${LIMIT_NAMES.join(', ')}, not ${describe(value)}`);
  v.checkKeys(value, LIMIT_NAMES, 'limits');
  const limits: NonNullable<ConfigFile['limits']> = {};
  for (const name of LIMIT_NAMES) {
    const item = value[name];
    if (item === undefined) continue;
    const base = `limits.${name}`;
    if (!isRecord(item)) throw v.error(base, `must be a mapping of ${LIMIT_KEYS.join(', ')}, not ${describe(item)}`);
    v.checkKeys(item, LIMIT_KEYS, base);
    const limit: Partial<LimitConfig> = {};
    if (item.free_attempts !== undefined) limit.free_attempts = v.integer(item.free_attempts, `${base}.free_attempts`, 0, 100_000);
    if (item.backoff_base_ms !== undefined) limit.backoff_base_ms = v.integer(item.backoff_base_ms, `${base}.backoff_base_ms`, 0, 3600_000, ' (milliseconds)');
    if (item.lock_after !== undefined) limit.lock_after = v.integer(item.lock_after, `${base}.lock_after`, 1, 1_000_000, ' (failures)');
    if (item.lock_seconds !== undefined) limit.lock_seconds = v.integer(item.lock_seconds, `${base}.lock_seconds`, 1, 7 * 86400, ' (seconds)');
    limits[name] = limit;
  }
  return limits;
}

function validateResources(v: Validator, value: unknown): ResourceFixture[] {
  if (!Array.isArray(value)) throw v.error('resources', `must be a list of resource mappings, not ${describe(value)}`);
  const seen = new Map<string, number>();
  return value.map((item, index) => {
    const base = `resources[${index}]`;
    if (!isRecord(item)) throw v.error(base, `must be a mapping with resource and scopes, not ${describe(item)}`);
    v.checkKeys(item, RESOURCE_KEYS, base);
    if (item.resource === undefined) throw v.error(`${base}.resource`, 'is required');
    const resource = v.string(item.resource, `${base}.resource`, { nonEmpty: true });
    const problem = resourceIdentifierProblem(resource);
    if (problem) throw v.error(`${base}.resource`, problem);
    const previous = seen.get(resource);
    if (previous !== undefined) throw v.error(`${base}.resource`, `duplicates resources[${previous}].resource ${JSON.stringify(resource)}`);
    seen.set(resource, index);
    const list = (key: 'scopes' | 'introspection_client_ids'): string[] => {
      const raw = item[key];
      if (raw === undefined) return [];
      if (!Array.isArray(raw)) throw v.error(`${base}.${key}`, `must be a list of strings, not ${describe(raw)}`);
      return raw.map((entry, i) => v.string(entry, `${base}.${key}[${i}]`, { nonEmpty: true }));
    };
    const fixture: ResourceFixture = { resource, scopes: list('scopes'), introspection_client_ids: list('introspection_client_ids') };
    if (item.name !== undefined) fixture.name = v.string(item.name, `${base}.name`, { nonEmpty: true });
    return fixture;
  });
}

/** RFC 8707 §2: an absolute URI without a fragment; undefined when the identifier is valid. */
export function resourceIdentifierProblem(resource: string): string | undefined {
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    return `must be an absolute URI (RFC 8707 §2), not ${JSON.stringify(resource)}`;
  }
  if (resource.includes('#') || url.hash !== '') return 'must not contain a fragment (RFC 8707 §2)';
  return undefined;
}

function validateUsers(v: Validator, value: unknown): UserFixture[] {
  if (!Array.isArray(value)) throw v.error('users', `must be a list of user mappings, not ${describe(value)}`);
  const seen = new Map<string, number>();
  return value.map((item, index) => {
    const base = `users[${index}]`;
    if (!isRecord(item)) throw v.error(base, `must be a mapping with username and password, not ${describe(item)}`);
    v.checkKeys(item, USER_KEYS, base);
    if (item.username === undefined) throw v.error(`${base}.username`, 'is required');
    if (item.password === undefined) throw v.error(`${base}.password`, 'is required');
    const username = v.string(item.username, `${base}.username`, { nonEmpty: true });
    if (username.trim() !== username || /[\x00-\x1F\x7F]/.test(username)) {
      throw v.error(`${base}.username`, 'must not have leading or trailing spaces or control characters');
    }
    const previous = seen.get(username);
    if (previous !== undefined) {
      throw v.error(`${base}.username`, `duplicates users[${previous}].username ${JSON.stringify(username)}`);
    }
    seen.set(username, index);
    const password = v.string(item.password, `${base}.password`);
    if (password.length === 0) throw v.error(`${base}.password`, 'must be a non-empty string');
    const user: UserFixture = { username, password };
    if (item.email !== undefined) {
      const email = v.string(item.email, `${base}.email`, { nonEmpty: true });
      if (!isEmailAddress(email)) throw v.error(`${base}.email`, `must be an email address, not ${JSON.stringify(email)}`);
      user.email = email;
    }
    if (item.name !== undefined) user.name = v.string(item.name, `${base}.name`, { nonEmpty: true });
    // OIDC Core §5.1: given_name, family_name, email_verified, phone_number, phone_number_verified, address.
    let claims: Record<string, unknown>;
    try {
      claims = validateUserClaims(item);
    } catch (error) {
      if (error instanceof UserClaimError) throw v.error(`${base}.${error.field}`, `is invalid: ${error.message}`);
      throw error;
    }
    Object.assign(user, claims);
    return user;
  });
}

/** Reads a YAML (`.yaml`/`.yml`) or JSON (`.json`) config file; other extensions are read as YAML. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new ConfigError(`Cannot read config file ${path}: ${reason}`);
  }
  return validateConfig(parseConfigText(text, path), path);
}
