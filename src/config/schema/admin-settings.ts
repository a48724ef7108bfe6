/**
 * Settings of the admin REST API (src/http/routes/admin/): whether it is served, and where. By
 * default it is served under `/admin/v1` of the main listener; `admin.listen` moves it to a
 * listener of its own (e.g. `127.0.0.1:9443`), so that it can be kept off the public interface.
 * `console.enabled` serves the web console (`/console`, src/http/routes/console/), a client of
 * this server that signs an admin user in and acts through the admin API's core functions.
 * Composed into the config file schema by src/config/settings-schema.ts.
 */
import { Type } from '@sinclair/typebox';
import { ConfigError } from './config-error.js';
import { boolSetting, setting } from './setting-node.js';

/** Why `listen` is no `host:port` (an IPv6 host in brackets), or undefined. */
export function adminListenProblem(listen: string): string | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(listen);
  if (!match) return 'must be host:port, e.g. 127.0.0.1:9443 or [::1]:9443';
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return 'has a port outside 1-65535';
  return undefined;
}

/** The host (without brackets) and port of a valid `admin.listen`. */
export function parseAdminListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}

export const ADMIN_SETTINGS = {
  admin: Type.Optional(
    Type.Object(
      {
        enabled: boolSetting(
          'admin.enabled',
          true,
          'serve the admin REST API under `/admin/v1` (the `admin` section; docs/operating.md): every request needs an admin access token issued by this server',
        ),
        listen: setting(Type.String({ minLength: 1 }), {
          setting: 'admin.listen',
          env: 'GATEHOUSE_ADMIN_LISTEN',
          doc: 'serve the admin API on this `host:port` only (its own listener), not on the main one; recommended in production',
          defaultDoc: 'none: under `/admin/v1` of the main listener',
          check: (listen) => adminListenProblem(listen),
          parse: (listen, source) => {
            const problem = adminListenProblem(listen);
            if (problem) throw new ConfigError(`${source} ${problem}`);
            return listen;
          },
        }),
      },
      { additionalProperties: false },
    ),
  ),
  console: Type.Optional(
    Type.Object(
      {
        enabled: setting(Type.Boolean(), {
          setting: 'console.enabled',
          doc: 'serve the web console under `/console` (docs/operating.md, Console): admin users sign in with Gatehouse itself and manage clients, users, resources, keys, sessions and the audit log',
          defaultDoc: 'on when `admin.enabled`',
        }),
      },
      { additionalProperties: false },
    ),
  ),
};
