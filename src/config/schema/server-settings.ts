/**
 * Settings of the listener and of what it exposes: issuer, port, interface, database, built-in
 * HTTPS, trusted proxies, the plain-http issuer override and the error pages' developer details.
 * Composed into the config file schema by src/config/settings-schema.ts.
 */
import { isIP } from 'node:net';
import { Type } from '@sinclair/typebox';
import { ConfigError } from './config-error.js';
import { int, oneOf, setting, text } from './setting-node.js';

/** The values of `explain_errors`. */
export const EXPLAIN_ERRORS_MODES = ['auto', 'always', 'never'] as const;

const DATABASE_URL = /^(sqlite:|postgres:\/\/|postgresql:\/\/)/;

function parsePort(value: string, source: string): number {
  const trimmed = value.trim();
  const port = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(
      `Invalid port from ${source}: ${JSON.stringify(value)} (expected an integer from 0 to 65535)`,
    );
  }
  return port;
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
    if (
      version === 0 ||
      rest.length > 0 ||
      (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits))
    ) {
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
    if (hops < 1 || hops > 100)
      throw new ConfigError(`Invalid trust proxy setting from ${source}: ${value} hops (expected 1 to 100)`);
    return hops;
  }
  const problem = trustProxyProblem(value);
  if (problem !== undefined) throw new ConfigError(`Invalid trust proxy setting from ${source}: it ${problem}`);
  return value;
}

/** Where the server listens, under which issuer, and on which database. */
export const SERVER_SETTINGS = {
  issuer: setting(text(), {
    setting: 'issuer',
    special: true,
    env: 'GATEHOUSE_ISSUER',
    flag: '--issuer <url>',
    flagHelp:
      'issuer URL: https, or http on a loopback host (default: $GATEHOUSE_ISSUER, the config file, or http://localhost:PORT)',
    doc: 'issuer',
    defaultDoc: '`http://localhost:PORT`',
  }),
  port: setting(int(0, 65535), {
    setting: 'port',
    default: 9001,
    env: 'PORT',
    parse: parsePort,
    flag: '-p, --port <port>',
    flagHelp: 'port to listen on (default: $PORT, the config file, or 9001)',
    doc: 'port',
  }),
  host: setting(text(), {
    setting: 'host',
    default: 'localhost',
    flag: '--host <host>',
    flagHelp: 'interface to listen on (default: the config file, or localhost)',
    doc: 'interface',
  }),
  database: setting(text(), {
    setting: 'databaseUrl',
    special: true,
    default: 'sqlite:./gatehouse.db',
    env: 'GATEHOUSE_DATABASE_URL',
    doc: 'database',
    flag: '--database <url>',
    flagScope: 'store',
    flagHelp:
      'database URL: sqlite:PATH or postgres://... (default: $GATEHOUSE_DATABASE_URL, the config file, or sqlite:./gatehouse.db)',
    check: (url) =>
      DATABASE_URL.test(url)
        ? undefined
        : `must be a database URL such as sqlite:./gatehouse.db, sqlite::memory: or postgres://user@host/db, not ${JSON.stringify(url)}`,
  }),
};

/** A PEM file of built-in HTTPS, read by resolveSettings; without it the server speaks plain http. */
function tlsFile<const P extends string, const F extends string>(
  path: P,
  env: string,
  doc: string,
  flag: F,
  flagHelp: string,
) {
  return setting(text(), { setting: path, special: true, env, doc, defaultDoc: 'none: plain http', flag, flagHelp });
}

/** HTTPS, proxies and what the server shows to whom. */
export const EXPOSURE_SETTINGS = {
  tls_cert: tlsFile(
    'tls.certFile',
    'GATEHOUSE_TLS_CERT',
    'HTTPS certificate (chain), a PEM file (relative to the config file)',
    '--tls-cert <file>',
    'serve HTTPS with this PEM certificate (chain) (default: $GATEHOUSE_TLS_CERT or the config file tls_cert)',
  ),
  tls_key: tlsFile(
    'tls.keyFile',
    'GATEHOUSE_TLS_KEY',
    'HTTPS private key, a PEM file (relative to the config file)',
    '--tls-key <file>',
    'the PEM private key of --tls-cert (default: $GATEHOUSE_TLS_KEY or the config file tls_key)',
  ),
  // Checked by load-config.ts (trustProxyProblem): a list is joined with commas.
  trust_proxy: setting(
    // A list is joined with commas, so the validated value is boolean | number | string.
    Type.Union([Type.Boolean(), Type.Integer({ minimum: 1, maximum: 100 }), Type.String(), Type.Array(Type.String())], {
      'x-trust-proxy': true,
    }),
    {
      setting: 'trustProxy',
      default: false,
      valuesDoc: '`true`, `false`, 1 to 100 (hops), or addresses/CIDR ranges (a list, or comma-separated)',
      env: 'GATEHOUSE_TRUST_PROXY',
      parse: parseTrustProxy,
      doc: 'trusted proxies: `true`, a hop count, or addresses/CIDR ranges',
      flag: '--trust-proxy <proxies>',
      flagHelp:
        'behind a TLS terminator: honour X-Forwarded-For/-Proto from true (any), a hop count, or comma-separated addresses/CIDRs (default: $GATEHOUSE_TRUST_PROXY, the config file, or false)',
    },
  ),
  allow_http_issuer: setting(Type.Boolean(), {
    setting: 'allowHttpIssuer',
    default: false,
    env: 'GATEHOUSE_ALLOW_HTTP_ISSUER',
    doc: 'plain-http issuer on a non-loopback host',
    defaultDoc: 'refused',
    flag: '--allow-http-issuer',
    flagHelp: 'accept a plain http issuer on a non-loopback host (insecure; private test networks only)',
    // Any source that says true turns it on; a false one overrides nothing.
    parse: (value) => (['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase()) ? true : undefined),
  }),
  explain_errors: setting(oneOf(EXPLAIN_ERRORS_MODES), {
    setting: 'explainErrors',
    default: 'auto',
    env: 'GATEHOUSE_EXPLAIN_ERRORS',
    doc: 'developer details on redirect_uri error pages ("Error messages")',
    defaultDoc: '`auto`: on for a loopback issuer only',
    flag: '--explain-errors <mode>',
    flagHelp:
      'show registered redirect URIs and the side-by-side comparison on redirect_uri error pages: auto (loopback issuer only), always or never (default: $GATEHOUSE_EXPLAIN_ERRORS, the config file, or auto)',
    parse: (value, source) => {
      const mode = value.trim().toLowerCase();
      if ((EXPLAIN_ERRORS_MODES as readonly string[]).includes(mode))
        return mode as (typeof EXPLAIN_ERRORS_MODES)[number];
      throw new ConfigError(
        `Invalid ${source}: it must be one of ${EXPLAIN_ERRORS_MODES.join(', ')}, not the string ${JSON.stringify(mode)}`,
      );
    },
  }),
};
