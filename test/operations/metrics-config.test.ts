/**
 * The metrics token: from GATEHOUSE_METRICS_TOKEN or the config file's `metrics_token`
 * (the variable wins), long enough and sendable as an RFC 6750 §2.1 Bearer credential.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, resolveSettings } from '../../src/config/resolve-settings.js';
import { useTempDir } from '../helpers/temp-dir.js';

let dir: string;
useTempDir('gatehouse-metrics-config-', (created) => (dir = created));

async function resolveWith(env: NodeJS.ProcessEnv, config?: string) {
  const flags: { config?: string } = {};
  if (config !== undefined) {
    flags.config = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(flags.config, config);
  }
  return resolveSettings({ flags, env: { GATEHOUSE_SECRET: 'x'.repeat(32), ...env }, cwd: dir, log: () => {} });
}

describe('metrics token setting', () => {
  test('unset by default: /metrics stays disabled', async () => {
    assert.equal((await resolveWith({})).metricsToken, undefined);
  });

  test('from the config file, and GATEHOUSE_METRICS_TOKEN overrides it', async () => {
    assert.equal(
      (await resolveWith({}, 'metrics_token: from-the-config-file-123\n')).metricsToken,
      'from-the-config-file-123',
    );
    assert.equal(
      (
        await resolveWith(
          { GATEHOUSE_METRICS_TOKEN: 'from-the-environment-456' },
          'metrics_token: from-the-config-file-123\n',
        )
      ).metricsToken,
      'from-the-environment-456',
    );
  });

  test('a short token or one that cannot be a Bearer credential is refused with a clear message', async () => {
    await assert.rejects(
      resolveWith({ GATEHOUSE_METRICS_TOKEN: 'short' }),
      (error: unknown) =>
        error instanceof ConfigError && /GATEHOUSE_METRICS_TOKEN must be at least 16 characters/.test(error.message),
    );
    await assert.rejects(
      resolveWith({ GATEHOUSE_METRICS_TOKEN: 'has spaces in it, sixteen+' }),
      (error: unknown) => error instanceof ConfigError && /may contain only/.test(error.message),
    );
    await assert.rejects(
      resolveWith({}, 'metrics_token: short\n'),
      (error: unknown) =>
        error instanceof ConfigError && /metrics_token/.test(error.message) && /at least 16/.test(error.message),
    );
  });
});
