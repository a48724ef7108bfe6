/**
 * Issue 15 §1: the flow inspector "is enabled by `gatehouse start --dev` or the config key
 * `inspector: true`". A boolean `inspector` in a config file (YAML or JSON) is short for
 * `inspector: { enabled: … }`, started on a loopback issuer with the inspector on, and refused
 * on an issuer that is not loopback exactly as the long form is.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load-config.js';
import { startGatehouse } from '../../src/server.js';
import { TEST_SECRET } from '../helpers/server.js';
import { assertConfigError, resolveSettingsIn } from '../helpers/settings.js';
import { useTempDir } from '../helpers/temp-dir.js';

describe('config key `inspector: true` (short for inspector.enabled)', () => {
  let dir = '';
  useTempDir('gatehouse-inspector-config-', (created) => {
    dir = created;
  });

  /** resolveSettings as `gatehouse start --config FILE` does, with `text` as the file. */
  async function settingsFrom(name: string, text: string, env: NodeJS.ProcessEnv = {}) {
    const file = join(dir, name);
    await writeFile(file, text);
    return resolveSettingsIn(
      { cwd: dir, secret: TEST_SECRET },
      { flags: { config: file }, env: { GATEHOUSE_SECRET: TEST_SECRET, ...env } },
    );
  }

  it('a YAML config file with `inspector: true` starts Gatehouse with the inspector at /_gatehouse/flows', async () => {
    const settings = await settingsFrom(
      'gatehouse.yaml',
      'host: 127.0.0.1\nport: 0\ndatabase: "sqlite::memory:"\ninspector: true\n',
    );
    assert.equal(settings.inspector.enabled, true);
    // The other inspector keys keep their defaults.
    assert.equal(settings.inspector.maxFlows, 500);
    assert.equal(settings.inspector.allowRemote, false);
    const gatehouse = await startGatehouse(settings, { logger: false, issuerFromAddress: true });
    try {
      assert.ok(gatehouse.context.inspector !== undefined);
      const flows = await fetch(`${gatehouse.url}/_gatehouse/flows`);
      assert.equal(flows.status, 200);
      assert.match(await flows.text(), /Recent flows/);
    } finally {
      await gatehouse.close();
    }
  });

  it('a JSON config file with `inspector: false` leaves it off (/_gatehouse/* answers 404)', async () => {
    const settings = await settingsFrom(
      'gatehouse.json',
      JSON.stringify({ host: '127.0.0.1', port: 0, database: 'sqlite::memory:', inspector: false }),
    );
    assert.equal(settings.inspector.enabled, false);
    const gatehouse = await startGatehouse(settings, { logger: false, issuerFromAddress: true });
    try {
      assert.equal(gatehouse.context.inspector, undefined);
      assert.equal((await fetch(`${gatehouse.url}/_gatehouse/flows`)).status, 404);
    } finally {
      await gatehouse.close();
    }
    // JSON's `true` is the shorthand too; the environment variable still turns it on over `false`.
    assert.equal((await settingsFrom('on.json', '{"inspector": true}')).inspector.enabled, true);
    assert.equal(
      (await settingsFrom('env.json', '{"inspector": false}', { GATEHOUSE_INSPECTOR: 'true' })).inspector.enabled,
      true,
    );
  });

  it('`inspector: true` on an issuer that is not loopback is refused as inspector.enabled is', async () => {
    await assertConfigError(
      settingsFrom('remote.yaml', 'issuer: https://id.example.com\ninspector: true\n'),
      /flow inspector .* not a loopback address.*inspector\.allow_remote: true and inspector\.access_token/,
    );
    const allowed = await settingsFrom(
      'remote-allowed.yaml',
      'issuer: https://id.example.com\ninspector: { enabled: true, allow_remote: true }\n',
      { GATEHOUSE_INSPECTOR_TOKEN: 'inspector-token-0123456789' },
    );
    assert.equal(allowed.inspector.enabled, true);
  });

  it('any other value is an error naming both forms', () => {
    assert.throws(
      () => validateConfig({ inspector: 'yes' }, 'gatehouse.yaml'),
      /inspector must be true, false or a mapping of enabled, allow_remote, access_token, max_flows, retention_minutes, not the string "yes"/,
    );
    // The long form is unchanged, and takes no unknown keys.
    assert.deepEqual(validateConfig({ inspector: { enabled: true } }, 'x').inspector, { enabled: true });
    assert.deepEqual(validateConfig({ inspector: true }, 'x').inspector, { enabled: true });
    assert.throws(() => validateConfig({ inspector: { enable: true } }, 'x'), /inspector\.enable/);
  });
});
