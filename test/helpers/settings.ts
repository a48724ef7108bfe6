/**
 * Settings for tests that resolve settings as the CLI does, or start Gatehouse with settings of
 * their own (an issuer that is not the listening address, their own logger).
 */
import assert from 'node:assert/strict';
import { ConfigError, resolveSettings, type ResolveSettingsInput } from '../../src/config/resolve-settings.js';
import { DEFAULT_SETTINGS, type GatehouseSettings } from '../../src/config/settings.js';
import { TEST_SECRET } from './server.js';

/**
 * resolveSettings with no flags, `secret` as GATEHOUSE_SECRET and `cwd` as the working directory,
 * each replaced by `input`; the lines it logs go into `input.logs`.
 */
export function resolveSettingsIn(
  defaults: { cwd: string; secret: string },
  input: Partial<ResolveSettingsInput> & { logs?: string[] },
) {
  const logs = input.logs ?? [];
  return resolveSettings({
    flags: {},
    env: { GATEHOUSE_SECRET: defaults.secret },
    cwd: defaults.cwd,
    log: (message) => logs.push(message),
    ...input,
  });
}

/** The promise rejects with a ConfigError whose message matches `message`. */
export async function assertConfigError(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

/**
 * Settings of a server on 127.0.0.1 (a random port, SQLite in memory, no clients, users or
 * resources) whose issuer is https://auth.example.com, as behind a TLS-terminating proxy.
 */
export function proxiedIssuerSettings(overrides: Partial<GatehouseSettings> = {}): GatehouseSettings {
  return {
    ...DEFAULT_SETTINGS,
    issuer: 'https://auth.example.com',
    host: '127.0.0.1',
    port: 0,
    databaseUrl: 'sqlite::memory:',
    secret: TEST_SECRET,
    clients: [],
    users: [],
    resources: [],
    ...overrides,
  };
}
