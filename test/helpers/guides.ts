/**
 * Gatehouse as a guide of docs/guides/ configures it: the guide's config file
 * (examples/guides/<guide>/gatehouse.yaml) resolved as `gatehouse start --config` resolves it,
 * on a test server (127.0.0.1, a random port, in-memory SQLite unless `databaseUrl` says otherwise)
 * with Alice as its user.
 */
import { join } from 'node:path';
import type { GatehouseSettings } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { REPO_ROOT } from './docs.js';
import { ALICE, TEST_SECRET, startTestServer } from './server.js';
import { resolveSettingsIn } from './settings.js';

/** The settings of a guide's config file (relative to the repository). */
export async function guideSettings(configFile: string): Promise<GatehouseSettings> {
  return resolveSettingsIn({ cwd: REPO_ROOT, secret: TEST_SECRET }, { flags: { config: join(REPO_ROOT, configFile) } });
}

/** A test server with the clients, resources and settings of a guide's config file. */
export async function startGuideServer(
  configFile: string,
  overrides: Partial<GatehouseSettings> = {},
): Promise<RunningGatehouse> {
  const { databaseUrl, ...rest } = overrides;
  const {
    issuer: _issuer,
    host: _host,
    port: _port,
    databaseUrl: _databaseUrl,
    secret: _secret,
    users,
    ...settings
  } = await guideSettings(configFile);
  return startTestServer({
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
    clients: rest.clients ?? settings.clients,
    resources: rest.resources ?? settings.resources,
    users: users.length > 0 ? users : [ALICE],
    settings: { ...settings, ...rest },
  });
}
