/**
 * Resolves the settings of one instance. Precedence: CLI flags > environment variables >
 * config file > DEFAULT_SETTINGS.
 *
 * Environment: PORT, GATEHOUSE_ISSUER, GATEHOUSE_DATABASE_URL, GATEHOUSE_SECRET, GATEHOUSE_CONFIG,
 * GATEHOUSE_METRICS_TOKEN, GATEHOUSE_TLS_CERT, GATEHOUSE_TLS_KEY, GATEHOUSE_TRUST_PROXY,
 * GATEHOUSE_ALLOW_HTTP_ISSUER, GATEHOUSE_EXPLAIN_ERRORS.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, explainErrorsProblem, loadConfigFile, metricsTokenProblem, trustProxyProblem, type ConfigFile } from './load-config.js';
import { DEFAULT_SETTINGS, type AttemptLimit, type GatehouseSettings } from './settings.js';

/** A limit of the config file (snake_case, any key may be absent) over its default. */
function resolveLimit(defaults: AttemptLimit, config: NonNullable<ConfigFile['limits']>[keyof NonNullable<ConfigFile['limits']>]): AttemptLimit {
  return {
    freeAttempts: config?.free_attempts ?? defaults.freeAttempts,
    backoffBaseMs: config?.backoff_base_ms ?? defaults.backoffBaseMs,
    lockAfter: config?.lock_after ?? defaults.lockAfter,
    lockSeconds: config?.lock_seconds ?? defaults.lockSeconds,
  };
}

export { ConfigError } from './load-config.js';

export interface SettingsFlags {
  config?: string | undefined;
  port?: string | number | undefined;
  host?: string | undefined;
  issuer?: string | undefined;
  database?: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  /** `true`, `false`, a hop count, or comma-separated proxy addresses / CIDR ranges. */
  trustProxy?: string | undefined;
  allowHttpIssuer?: boolean | undefined;
  /** auto, always or never. */
  explainErrors?: string | undefined;
}

export interface ResolveSettingsInput {
  flags: SettingsFlags;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Receives warnings meant for the operator. */
  log: (message: string) => void;
  /**
   * Whether the secret is needed (default true). Administrative commands that only touch the
   * store (clients, users, migrate) pass false: then a missing GATEHOUSE_SECRET is no error, no
   * development secret file is created, and `secret` is the empty string.
   */
  requireSecret?: boolean;
}

/** Name of the development secret file, created in the working directory. */
export const DEV_SECRET_FILE = '.gatehouse-secret';
const MIN_SECRET_LENGTH = 32;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase());
}

/**
 * Whether error pages show developer-only details (explain_errors): `auto` means development,
 * recognised by an issuer on a loopback host, as for the development secret.
 */
export function explainsErrors(settings: Pick<GatehouseSettings, 'explainErrors' | 'issuer'>): boolean {
  if (settings.explainErrors === 'auto') return isLoopbackHost(new URL(settings.issuer).hostname);
  return settings.explainErrors === 'always';
}

function resolveExplainErrors(flags: SettingsFlags, env: NodeJS.ProcessEnv, config: ConfigFile): GatehouseSettings['explainErrors'] {
  for (const [value, source] of [[flags.explainErrors, '--explain-errors'], [env.GATEHOUSE_EXPLAIN_ERRORS, 'GATEHOUSE_EXPLAIN_ERRORS']] as const) {
    if (value === undefined || value.trim() === '') continue;
    const mode = value.trim().toLowerCase();
    const problem = explainErrorsProblem(mode);
    if (problem !== undefined) throw new ConfigError(`Invalid ${source}: it ${problem}`);
    return mode as GatehouseSettings['explainErrors'];
  }
  return config.explain_errors ?? DEFAULT_SETTINGS.explainErrors;
}

function parsePort(value: string | number, source: string): number {
  const text = String(value).trim();
  const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`Invalid port from ${source}: ${JSON.stringify(String(value))} (expected an integer from 0 to 65535)`);
  }
  return port;
}

/**
 * RFC 8414 §2: the issuer is a URL using the https scheme with no query or fragment
 * components. Plain http is accepted only on a loopback host, for development. Returns the
 * issuer without a trailing slash.
 */
export function validateIssuer(raw: string, source: string, allowHttp = false): string {
  const refuse = (reason: string): never => {
    // The reason starts with a short clause, then (after ". ") the explanation.
    const [first, ...rest] = reason.split('. ');
    const explanation = rest.length > 0 ? ` ${rest.join('. ')}` : '';
    throw new ConfigError(`Gatehouse refuses to start: issuer ${raw} ${first} (set by ${source}).${explanation}`);
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('is not an absolute URL (RFC 8414 §2)');
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw.trim())) refuse('is not an absolute URL (RFC 8414 §2)');
  if (raw.includes('?') || raw.includes('#')) refuse('must not have a query or fragment component (RFC 8414 §2)');
  if (url.username !== '' || url.password !== '') refuse('must not contain user information');
  if (url.protocol !== 'https:') {
    if (url.protocol !== 'http:') refuse('must use the https scheme (RFC 8414 §2)');
    if (!isLoopbackHost(url.hostname) && !allowHttp) {
      refuse(
        'is not https. RFC 8414 §2 requires the issuer to use the https scheme; plain http is allowed only on a loopback host (localhost, 127.0.0.1, [::1]) for development. Serve Gatehouse over TLS (--tls-cert/--tls-key, or a TLS-terminating proxy with --trust-proxy) and set the issuer to its https URL; only on a private test network, override with --allow-http-issuer.',
      );
    }
  }
  return url.href.replace(/\/+$/, '');
}

/** Resolves a relative `sqlite:PATH` against `base`; other URLs are returned unchanged. */
function resolveDatabaseUrl(databaseUrl: string, base: string, source: string): string {
  if (!/^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(databaseUrl)) {
    throw new ConfigError(
      `Invalid database URL from ${source}: ${JSON.stringify(databaseUrl)} (expected sqlite:PATH, sqlite::memory: or postgres://...)`,
    );
  }
  if (!databaseUrl.startsWith('sqlite:')) return databaseUrl;
  const path = databaseUrl.slice('sqlite:'.length);
  if (path === '') throw new ConfigError(`Invalid database URL from ${source}: sqlite: needs a file path, e.g. sqlite:./gatehouse.db`);
  if (path === ':memory:' || path.startsWith('file:') || isAbsolute(path)) return databaseUrl;
  return `sqlite:${resolve(base, path)}`;
}

async function resolveSecret(input: ResolveSettingsInput, issuer: string, issuerIsLoopback: boolean): Promise<string> {
  const fromEnv = input.env.GATEHOUSE_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(`GATEHOUSE_SECRET is too short: it must be at least ${MIN_SECRET_LENGTH} characters (e.g. the output of: openssl rand -base64 32)`);
    }
    return fromEnv;
  }
  if (input.requireSecret === false) return '';
  if (!issuerIsLoopback) {
    throw new ConfigError(
      `Gatehouse refuses to start: GATEHOUSE_SECRET is not set. It is required when the issuer (${issuer}) is not a loopback address; set it to at least ${MIN_SECRET_LENGTH} random characters (e.g. openssl rand -base64 32) and keep it the same on every instance.`,
    );
  }

  // Development: a random secret kept in a file of the working directory.
  const file = join(input.cwd, DEV_SECRET_FILE);
  let secret: string | undefined;
  let created = false;
  try {
    secret = randomBytes(32).toString('base64url');
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError(`Cannot create the development secret file ${file}: ${(error as Error).message}`);
    }
    secret = undefined;
  }
  if (!created) {
    secret = (await readFile(file, 'utf8')).trim();
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(`The development secret file ${file} holds fewer than ${MIN_SECRET_LENGTH} characters; delete it to have a new one created`);
    }
    const { mode } = await stat(file);
    if ((mode & 0o077) !== 0) {
      input.log(`Warning: ${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
    }
  }
  input.log(
    `Warning: GATEHOUSE_SECRET is not set; using the development secret ${created ? 'created in' : 'from'} ${file}. Set GATEHOUSE_SECRET in production.`,
  );
  return secret as string;
}

export async function resolveSettings(input: ResolveSettingsInput): Promise<GatehouseSettings> {
  const { flags, env, cwd } = input;
  const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value);

  // Config file: --config, then GATEHOUSE_CONFIG.
  const configPath = nonEmpty(flags.config) ?? nonEmpty(env.GATEHOUSE_CONFIG);
  let config: ConfigFile = {};
  let configDir = cwd;
  if (configPath !== undefined) {
    const absolute = resolve(cwd, configPath);
    config = await loadConfigFile(absolute);
    configDir = dirname(absolute);
  }
  const configSource = configPath !== undefined ? `config file ${configPath}` : 'config file';

  let port: number;
  if (flags.port !== undefined && String(flags.port).trim() !== '') port = parsePort(flags.port, '--port');
  else if (nonEmpty(env.PORT) !== undefined) port = parsePort(env.PORT as string, 'PORT');
  else port = config.port ?? DEFAULT_SETTINGS.port;

  const host = nonEmpty(flags.host) ?? config.host ?? DEFAULT_SETTINGS.host;

  const serving = input.requireSecret !== false;
  const tls = serving ? await resolveTls(flags, env, config, configDir, configSource, cwd) : null;
  const trustProxy = resolveTrustProxy(flags, env, config);
  const allowHttpIssuer =
    flags.allowHttpIssuer === true || isTrue(env.GATEHOUSE_ALLOW_HTTP_ISSUER) || config.allow_http_issuer === true;
  const explainErrors = resolveExplainErrors(flags, env, config);

  let issuer: string;
  if (nonEmpty(flags.issuer) !== undefined) issuer = validateIssuer(flags.issuer as string, '--issuer', allowHttpIssuer);
  else if (nonEmpty(env.GATEHOUSE_ISSUER) !== undefined) issuer = validateIssuer(env.GATEHOUSE_ISSUER as string, 'GATEHOUSE_ISSUER', allowHttpIssuer);
  else if (config.issuer !== undefined) issuer = validateIssuer(config.issuer, configSource, allowHttpIssuer);
  else issuer = validateIssuer(`${tls ? 'https' : 'http'}://localhost:${port}`, 'the default');
  const issuerUrl = new URL(issuer);
  const issuerIsLoopback = isLoopbackHost(issuerUrl.hostname);
  if (serving && issuerUrl.protocol === 'http:' && !issuerIsLoopback) {
    input.log(
      `WARNING: INSECURE: the issuer ${issuer} is plain http on a host that is not loopback, allowed only because of the http-issuer override (--allow-http-issuer). Codes, tokens, passwords and session cookies cross the network unencrypted; never do this outside a private test network.`,
    );
  }
  if (serving && issuerUrl.protocol === 'https:' && !issuerIsLoopback && tls === null && trustProxy === false) {
    input.log(
      `Warning: the issuer ${issuer} is https but Gatehouse serves plain http and trusts no proxy: put it behind a TLS-terminating proxy and set --trust-proxy (so client IPs and https are seen), or serve TLS itself with --tls-cert and --tls-key.`,
    );
  }

  let databaseUrl: string;
  if (nonEmpty(flags.database) !== undefined) databaseUrl = resolveDatabaseUrl(flags.database as string, cwd, '--database');
  else if (nonEmpty(env.GATEHOUSE_DATABASE_URL) !== undefined) {
    databaseUrl = resolveDatabaseUrl(env.GATEHOUSE_DATABASE_URL as string, cwd, 'GATEHOUSE_DATABASE_URL');
  } else if (config.database !== undefined) {
    // Relative paths in a config file are relative to the file, wherever it is started from.
    databaseUrl = resolveDatabaseUrl(config.database, configDir, configSource);
  } else databaseUrl = resolveDatabaseUrl(DEFAULT_SETTINGS.databaseUrl, cwd, 'the default');

  const secret = await resolveSecret(input, issuer, issuerIsLoopback);

  let metricsToken = config.metrics_token;
  const metricsTokenFromEnv = nonEmpty(env.GATEHOUSE_METRICS_TOKEN);
  if (metricsTokenFromEnv !== undefined) {
    const problem = metricsTokenProblem(metricsTokenFromEnv);
    if (problem) throw new ConfigError(`GATEHOUSE_METRICS_TOKEN ${problem}`);
    metricsToken = metricsTokenFromEnv;
  }

  return {
    // Every default first (settings without a flag, variable or config key keep theirs).
    ...DEFAULT_SETTINGS,
    issuer,
    port,
    host,
    databaseUrl,
    secret,
    tls,
    trustProxy,
    allowHttpIssuer,
    explainErrors,
    signingAlg: config.signing_alg ?? DEFAULT_SETTINGS.signingAlg,
    idTokenSignedResponseAlgDefault: config.id_token_signed_response_alg_default ?? DEFAULT_SETTINGS.idTokenSignedResponseAlgDefault,
    idTokenClaimsDefault: config.id_token_claims_default ?? DEFAULT_SETTINGS.idTokenClaimsDefault,
    codeTtlSeconds: config.code_ttl_seconds ?? DEFAULT_SETTINGS.codeTtlSeconds,
    accessTokenTtlSeconds: config.access_token_ttl_seconds ?? DEFAULT_SETTINGS.accessTokenTtlSeconds,
    sessionTtlSeconds: config.session_ttl_seconds ?? DEFAULT_SETTINGS.sessionTtlSeconds,
    deviceCookieTtlSeconds: config.device_cookie_ttl_seconds ?? DEFAULT_SETTINGS.deviceCookieTtlSeconds,
    interactionTtlSeconds: config.interaction_ttl_seconds ?? DEFAULT_SETTINGS.interactionTtlSeconds,
    refreshTokenIdleTtlSeconds: config.refresh_token_idle_ttl_seconds ?? DEFAULT_SETTINGS.refreshTokenIdleTtlSeconds,
    refreshTokenAbsoluteTtlSeconds: config.refresh_token_absolute_ttl_seconds ?? DEFAULT_SETTINGS.refreshTokenAbsoluteTtlSeconds,
    refreshTokenGraceSeconds: config.refresh_token_grace_seconds ?? DEFAULT_SETTINGS.refreshTokenGraceSeconds,
    keyActivationDelaySeconds: config.key_activation_delay_seconds ?? DEFAULT_SETTINGS.keyActivationDelaySeconds,
    backchannelLogoutMaxAttempts: config.backchannel_logout_max_attempts ?? DEFAULT_SETTINGS.backchannelLogoutMaxAttempts,
    backchannelLogoutMaxAgeSeconds: config.backchannel_logout_max_age_seconds ?? DEFAULT_SETTINGS.backchannelLogoutMaxAgeSeconds,
    backchannelLogoutBackoffInitialMs: config.backchannel_logout_backoff_initial_ms ?? DEFAULT_SETTINGS.backchannelLogoutBackoffInitialMs,
    backchannelLogoutBackoffMaxMs: config.backchannel_logout_backoff_max_ms ?? DEFAULT_SETTINGS.backchannelLogoutBackoffMaxMs,
    backchannelLogoutTimeoutMs: config.backchannel_logout_timeout_ms ?? DEFAULT_SETTINGS.backchannelLogoutTimeoutMs,
    outboundAllowPrivateAddresses: config.outbound_allow_private_addresses ?? DEFAULT_SETTINGS.outboundAllowPrivateAddresses,
    outboundMaxResponseBytes: config.outbound_max_response_bytes ?? DEFAULT_SETTINGS.outboundMaxResponseBytes,
    ...(metricsToken !== undefined ? { metricsToken } : {}),
    clientCacheTtlSeconds: config.client_cache_ttl_seconds ?? DEFAULT_SETTINGS.clientCacheTtlSeconds,
    cleanupIntervalSeconds: config.cleanup_interval_seconds ?? DEFAULT_SETTINGS.cleanupIntervalSeconds,
    cleanupBatchSize: config.cleanup_batch_size ?? DEFAULT_SETTINGS.cleanupBatchSize,
    auditRetentionDays: config.audit_retention_days ?? DEFAULT_SETTINGS.auditRetentionDays,
    limits:
      config.limits === undefined
        ? DEFAULT_SETTINGS.limits
        : {
            loginUserAddress: resolveLimit(DEFAULT_SETTINGS.limits.loginUserAddress, config.limits.login_user_address),
            loginUsername: resolveLimit(DEFAULT_SETTINGS.limits.loginUsername, config.limits.login_username),
            loginIp: resolveLimit(DEFAULT_SETTINGS.limits.loginIp, config.limits.login_ip),
            loginDevice: resolveLimit(DEFAULT_SETTINGS.limits.loginDevice, config.limits.login_device),
            clientId: resolveLimit(DEFAULT_SETTINGS.limits.clientId, config.limits.client_id),
            clientIp: resolveLimit(DEFAULT_SETTINGS.limits.clientIp, config.limits.client_ip),
            interactionIp: resolveLimit(DEFAULT_SETTINGS.limits.interactionIp, config.limits.interaction_ip),
          },
    maxLiveInteractions: config.max_live_interactions ?? DEFAULT_SETTINGS.maxLiveInteractions,
    ...resolveHttpLimits(config, configSource),
    resources: config.resources ?? [],
    clients: config.clients ?? [],
    users: config.users ?? [],
  };
}

/** The HTTP server limits; Node refuses a headers timeout longer than the request timeout. */
function resolveHttpLimits(config: ConfigFile, source: string) {
  const requestTimeoutMs = config.request_timeout_ms ?? DEFAULT_SETTINGS.requestTimeoutMs;
  const headersTimeoutMs = config.headers_timeout_ms ?? Math.min(DEFAULT_SETTINGS.headersTimeoutMs, requestTimeoutMs);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(`Invalid ${source}: headers_timeout_ms (${headersTimeoutMs}) must not be longer than request_timeout_ms (${requestTimeoutMs})`);
  }
  return {
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: config.keep_alive_timeout_ms ?? DEFAULT_SETTINGS.keepAliveTimeoutMs,
    connectionTimeoutMs: config.connection_timeout_ms ?? DEFAULT_SETTINGS.connectionTimeoutMs,
    maxConnections: config.max_connections ?? DEFAULT_SETTINGS.maxConnections,
  };
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());
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

function resolveTrustProxy(flags: SettingsFlags, env: NodeJS.ProcessEnv, config: ConfigFile): boolean | number | string {
  if (flags.trustProxy !== undefined && flags.trustProxy.trim() !== '') return parseTrustProxy(flags.trustProxy, '--trust-proxy');
  if (env.GATEHOUSE_TRUST_PROXY !== undefined && env.GATEHOUSE_TRUST_PROXY.trim() !== '') {
    return parseTrustProxy(env.GATEHOUSE_TRUST_PROXY, 'GATEHOUSE_TRUST_PROXY');
  }
  return config.trust_proxy ?? DEFAULT_SETTINGS.trustProxy;
}

/**
 * Built-in HTTPS: both files or neither, from flags, variables or the config file (relative
 * paths in the config file are relative to it). Read now, so a wrong path fails the start with
 * one clear line rather than later.
 */
async function resolveTls(
  flags: SettingsFlags,
  env: NodeJS.ProcessEnv,
  config: ConfigFile,
  configDir: string,
  configSource: string,
  cwd: string,
): Promise<GatehouseSettings['tls']> {
  const pick = (flag: string | undefined, variable: string | undefined, key: string | undefined, names: [string, string, string]) => {
    if (flag !== undefined && flag.trim() !== '') return { path: resolve(cwd, flag), source: names[0] };
    if (variable !== undefined && variable.trim() !== '') return { path: resolve(cwd, variable), source: names[1] };
    if (key !== undefined) return { path: resolve(configDir, key), source: names[2] };
    return undefined;
  };
  const cert = pick(flags.tlsCert, env.GATEHOUSE_TLS_CERT, config.tls_cert, ['--tls-cert', 'GATEHOUSE_TLS_CERT', `${configSource} tls_cert`]);
  const key = pick(flags.tlsKey, env.GATEHOUSE_TLS_KEY, config.tls_key, ['--tls-key', 'GATEHOUSE_TLS_KEY', `${configSource} tls_key`]);
  if (cert === undefined && key === undefined) return null;
  if (cert === undefined || key === undefined) {
    const [given, missing] = cert === undefined ? [key!, 'a certificate (--tls-cert)'] : [cert, 'a private key (--tls-key)'];
    throw new ConfigError(`HTTPS needs both a certificate and a private key: ${given.source} is set but ${missing} is not`);
  }
  const read = async (file: { path: string; source: string }, label: string): Promise<string> => {
    let text: string;
    try {
      text = await readFile(file.path, 'utf8');
    } catch (error) {
      throw new ConfigError(`Cannot read the TLS ${label} ${file.path} (from ${file.source}): ${(error as Error).message}`);
    }
    if (!text.includes('-----BEGIN ')) throw new ConfigError(`The TLS ${label} ${file.path} (from ${file.source}) is not a PEM file`);
    return text;
  };
  return { cert: await read(cert, 'certificate'), key: await read(key, 'private key'), certFile: cert.path, keyFile: key.path };
}
