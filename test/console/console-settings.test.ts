/**
 * `console.enabled` (docs/operating.md, Console): read from the config file's `console` section;
 * absent, the console follows `admin.enabled`; never served without the admin API it acts
 * through. Switched off, `/console` is an unknown path.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { consoleEnabled } from '../../src/core/console/console-client.js';
import { resolveSettingsIn } from '../helpers/settings.js';
import { TEST_SECRET, startTestServer } from '../helpers/server.js';
import { useTempDir } from '../helpers/temp-dir.js';

describe('console.enabled', () => {
  let dir = '';
  useTempDir('gatehouse-console-', (created) => {
    dir = created;
  });

  it('is read from the config file; absent, it follows admin.enabled, and admin.enabled: false turns it off too', async () => {
    const settingsOf = async (yaml: string) => {
      const file = join(dir, 'gatehouse.yaml');
      await writeFile(file, yaml);
      return resolveSettingsIn({ cwd: dir, secret: TEST_SECRET }, { flags: { config: file } });
    };
    const off = await settingsOf('console:\n  enabled: false\n');
    assert.equal(off.console?.enabled, false);
    assert.equal(consoleEnabled(off), false);
    assert.equal(consoleEnabled(await settingsOf('admin:\n  enabled: true\n')), true);
    assert.equal(consoleEnabled(await settingsOf('admin:\n  enabled: false\nconsole:\n  enabled: true\n')), false);
  });

  for (const settings of [{ console: { enabled: false } }, { admin: { enabled: false } }]) {
    it(`${JSON.stringify(settings)}: /console is not served`, async () => {
      const gatehouse = await startTestServer({ settings });
      try {
        for (const path of ['/console', '/console/callback', '/console/clients']) {
          const response = await fetch(`${gatehouse.url}${path}`, { redirect: 'manual' });
          assert.equal(response.status, 404, path);
        }
      } finally {
        await gatehouse.close();
      }
    });
  }
});
