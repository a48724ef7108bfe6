/**
 * Resolves the settings of one instance. Precedence: CLI flags > environment variables >
 * config file > defaults, for every setting of the schema (src/config/settings-schema.ts), which names
 * each one's flag and variable. A few settings are computed here from others (issuer, database,
 * TLS files, headers timeout, secret).
 */
import { checkBranding } from '../ui/page-kit.js';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, loadConfigFile } from './load-config.js';
import {
  type CONFIG_SCHEMA,
  CONFIG_FILE_SETTING,
  SETTINGS,
  flagName,
  flagProperty,
  type ConfigFile,
  type SettingEntry,
  type SettingMeta,
  type SettingsFlags,
} from './settings-schema.js';
import { DEFAULT_SETTINGS, type GatehouseSettings } from './settings.js';

export { ConfigError } from './load-config.js';
export type { SettingsFlags } from './settings-schema.js';

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
  /**
   * A config already read and checked by validateConfig (src/embed.ts: the options of an embedded
   * Gatehouse), used instead of a config file; `source` names it in error messages.
   */
  config?: { data: ConfigFile; source: string };
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
  if (path === '')
    throw new ConfigError(`Invalid database URL from ${source}: sqlite: needs a file path, e.g. sqlite:./gatehouse.db`);
  if (path === ':memory:' || path.startsWith('file:') || isAbsolute(path)) return databaseUrl;
  return `sqlite:${resolve(base, path)}`;
}

async function resolveSecret(input: ResolveSettingsInput, issuer: string, issuerIsLoopback: boolean): Promise<string> {
  const fromEnv = input.env.GATEHOUSE_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(
        `GATEHOUSE_SECRET is too short: it must be at least ${MIN_SECRET_LENGTH} characters (e.g. the output of: openssl rand -base64 32)`,
      );
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
      throw new ConfigError(
        `The development secret file ${file} holds fewer than ${MIN_SECRET_LENGTH} characters; delete it to have a new one created`,
      );
    }
    const { mode } = await stat(file);
    if ((mode & 0o077) !== 0) {
      input.log(
        `Warning: ${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${file}`,
      );
    }
  }
  input.log(
    `Warning: GATEHOUSE_SECRET is not set; using the development secret ${created ? 'created in' : 'from'} ${file}. Set GATEHOUSE_SECRET in production.`,
  );
  return secret as string;
}

function configValue(config: ConfigFile, key: string): unknown {
  let value: unknown = config;
  for (const part of key.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  return value;
}

interface Picked<V = unknown> {
  value: V;
  /** The flag, the variable, or `config` (the caller names the file). */
  source: string;
}

/**
 * A setting from the first of its sources that sets it: its flag, its environment variable, its
 * config file key (already validated). Empty flags and variables count as unset; the text of a
 * flag or variable goes through the setting's `parse`.
 */
function pick(
  meta: SettingMeta,
  key: string | undefined,
  input: ResolveSettingsInput,
  config: ConfigFile,
): Picked | undefined {
  const texts: [unknown, string][] = [];
  if (meta.flag !== undefined)
    texts.push([(input.flags as Record<string, unknown>)[flagProperty(meta.flag)], flagName(meta.flag)]);
  if (meta.env !== undefined) texts.push([input.env[meta.env], meta.env]);
  for (const [raw, source] of texts) {
    if (raw === undefined || raw === false) continue;
    if (raw === true) return { value: true, source };
    const text = String(raw);
    if (text.trim() === '') continue;
    const value = meta.parse ? meta.parse(text, source) : text;
    if (value !== undefined) return { value, source };
  }
  if (key !== undefined) {
    const value = configValue(config, key);
    if (value !== undefined) return { value, source: 'config' };
  }
  return undefined;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    // Copy nested defaults (limits) rather than change DEFAULT_SETTINGS.
    node = node[part] = { ...(typeof next === 'object' && next !== null ? next : {}) } as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

const entry = (key: keyof typeof CONFIG_SCHEMA.properties): SettingEntry =>
  SETTINGS.find((setting) => setting.key === key)!;

export async function resolveSettings(input: ResolveSettingsInput): Promise<GatehouseSettings> {
  const { cwd } = input;
  const configPath = pick(CONFIG_FILE_SETTING, undefined, input, {})?.value as string | undefined;
  let config: ConfigFile = {};
  let configDir = cwd;
  if (input.config !== undefined) config = input.config.data;
  else if (configPath !== undefined) {
    const absolute = resolve(cwd, configPath);
    config = await loadConfigFile(absolute);
    configDir = dirname(absolute);
  }
  const configSource = input.config?.source ?? (configPath !== undefined ? `config file ${configPath}` : 'config file');
  const sourceName = (picked: Picked) => (picked.source === 'config' ? configSource : picked.source);

  // Every setting the schema resolves alone: flag > environment > config file > default.
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const { key, meta } of SETTINGS) {
    if (meta.special) continue;
    const picked = pick(meta, key, input, config);
    if (picked !== undefined) setPath(settings, meta.setting, picked.value);
  }
  const port = settings.port as number;

  const serving = input.requireSecret !== false;
  const tls = serving ? await resolveTls(input, config, configDir, configSource) : null;
  const trustProxy = settings.trustProxy as GatehouseSettings['trustProxy'];
  const allowHttpIssuer = settings.allowHttpIssuer as boolean;

  const issuerPicked = pick(entry('issuer').meta, 'issuer', input, config);
  const issuer = issuerPicked
    ? validateIssuer(issuerPicked.value as string, sourceName(issuerPicked), allowHttpIssuer)
    : validateIssuer(`${tls ? 'https' : 'http'}://localhost:${port}`, 'the default');
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

  if (serving) refuseRemoteInspector(settings.inspector as GatehouseSettings['inspector'], issuer, issuerIsLoopback);

  // Relative paths in a config file are relative to the file, wherever it is started from.
  const databasePicked = pick(entry('database').meta, 'database', input, config);
  const databaseUrl = databasePicked
    ? resolveDatabaseUrl(
        databasePicked.value as string,
        databasePicked.source === 'config' ? configDir : cwd,
        sourceName(databasePicked),
      )
    : resolveDatabaseUrl(DEFAULT_SETTINGS.databaseUrl, cwd, 'the default');

  const secret = await resolveSecret(input, issuer, issuerIsLoopback);

  const branding = resolveBrandingFiles(settings.branding as GatehouseSettings['branding'], configDir);

  return {
    ...(settings as unknown as GatehouseSettings),
    ...(branding !== undefined ? { branding } : {}),
    issuer,
    databaseUrl,
    secret,
    tls,
    ...resolveHttpLimits(settings.requestTimeoutMs as number, config, configSource),
    resources: config.resources ?? [],
    clients: config.clients ?? [],
    users: config.users ?? [],
  };
}

/**
 * The branding's files, relative to the config file (they can be set there only), read now so
 * that a missing stylesheet or a broken template fails the start with one clear line
 * (src/ui/templates.ts) rather than a request.
 */
function resolveBrandingFiles(
  branding: GatehouseSettings['branding'],
  configDir: string,
): GatehouseSettings['branding'] {
  if (branding === undefined) return undefined;
  const resolved = { ...branding };
  if (resolved.stylesheet !== undefined) resolved.stylesheet = resolve(configDir, resolved.stylesheet);
  if (resolved.templates !== undefined) resolved.templates = resolve(configDir, resolved.templates);
  checkBranding(resolved);
  return resolved;
}

/**
 * The flow inspector shows which user signed in to which client, when, and every step after: on
 * an issuer others can reach it is refused unless the operator says so twice, with
 * inspector.allow_remote and an access token that every /_gatehouse/* request must carry.
 */
function refuseRemoteInspector(inspector: GatehouseSettings['inspector'], issuer: string, loopback: boolean): void {
  if (!inspector.enabled || loopback) return;
  if (inspector.allowRemote && inspector.accessToken !== undefined) return;
  const missing = [
    inspector.allowRemote ? null : 'inspector.allow_remote: true',
    inspector.accessToken !== undefined ? null : 'inspector.access_token (or GATEHOUSE_INSPECTOR_TOKEN)',
  ].filter((part) => part !== null);
  throw new ConfigError(
    `Gatehouse refuses to start: the flow inspector (--dev or inspector.enabled) shows which user did what, and the issuer ${issuer} is not a loopback address. Turn the inspector off, or set ${missing.join(' and ')} to serve it to whoever holds the token.`,
  );
}

/** The headers timeout: Node refuses one longer than the request timeout. */
function resolveHttpLimits(
  requestTimeoutMs: number,
  config: ConfigFile,
  source: string,
): Pick<GatehouseSettings, 'headersTimeoutMs'> {
  const headersTimeoutMs = config.headers_timeout_ms ?? Math.min(DEFAULT_SETTINGS.headersTimeoutMs, requestTimeoutMs);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(
      `Invalid ${source}: headers_timeout_ms (${headersTimeoutMs}) must not be longer than request_timeout_ms (${requestTimeoutMs})`,
    );
  }
  return { headersTimeoutMs };
}

/**
 * Built-in HTTPS: both files or neither, from flags, variables or the config file (relative
 * paths in the config file are relative to it). Read now, so a wrong path fails the start with
 * one clear line rather than later.
 */
async function resolveTls(
  input: ResolveSettingsInput,
  config: ConfigFile,
  configDir: string,
  configSource: string,
): Promise<GatehouseSettings['tls']> {
  const file = (key: 'tls_cert' | 'tls_key') => {
    const picked = pick(entry(key).meta, key, input, config);
    if (picked === undefined) return undefined;
    const fromConfig = picked.source === 'config';
    return {
      path: resolve(fromConfig ? configDir : input.cwd, picked.value as string),
      source: fromConfig ? `${configSource} ${key}` : picked.source,
    };
  };
  const cert = file('tls_cert');
  const key = file('tls_key');
  if (cert === undefined && key === undefined) return null;
  if (cert === undefined || key === undefined) {
    const [given, missing] =
      cert === undefined ? [key!, 'a certificate (--tls-cert)'] : [cert, 'a private key (--tls-key)'];
    throw new ConfigError(
      `HTTPS needs both a certificate and a private key: ${given.source} is set but ${missing} is not`,
    );
  }
  const read = async (file: { path: string; source: string }, label: string): Promise<string> => {
    let text: string;
    try {
      text = await readFile(file.path, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `Cannot read the TLS ${label} ${file.path} (from ${file.source}): ${(error as Error).message}`,
      );
    }
    if (!text.includes('-----BEGIN '))
      throw new ConfigError(`The TLS ${label} ${file.path} (from ${file.source}) is not a PEM file`);
    return text;
  };
  return {
    cert: await read(cert, 'certificate'),
    key: await read(key, 'private key'),
    certFile: cert.path,
    keyFile: key.path,
  };
}
