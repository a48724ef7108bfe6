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
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { TEST_SECRET, startTestServer } from '../helpers/server.js';
import { UserAgent, isLoginPage } from '../helpers/user-agent.js';
import { ALICE, signInToConsole, startConsoleServer } from './console-harness.js';
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

  it("with the flow inspector on, the overview's recent failures link to the failed flow's inspector page", async () => {
    const gatehouse = await startConsoleServer('sqlite::memory:', {
      settings: { inspector: { ...DEFAULT_SETTINGS.inspector, enabled: true } },
    });
    try {
      const stranger = new UserAgent(gatehouse.url);
      const login = await stranger.navigate(`${gatehouse.url}/console`);
      assert.ok(isLoginPage(login));
      await stranger.submit(login, { username: ALICE.username, password: 'not the password' });
      await gatehouse.audit.flush();
      const [failed] = await gatehouse.context.store.audit.list({ limit: 1, types: ['login.failed'] });
      assert.ok(failed?.flowId);
      const { page } = await signInToConsole(gatehouse, ALICE);
      assert.match(page.body, new RegExp(`<a href="/_gatehouse/flows/${failed.flowId}">Inspect flow`));
    } finally {
      await gatehouse.close();
    }
  });

  it("admin.listen: the console stays on the main listener (its redirect URI is the issuer's) and still acts through the admin API's checks", async () => {
    const gatehouse = await startConsoleServer('sqlite::memory:', {
      settings: { admin: { enabled: true, listen: '127.0.0.1:0' } },
    });
    try {
      const { page } = await signInToConsole(gatehouse, ALICE, '/console/keys');
      assert.equal(page.status, 200);
      assert.match(page.body, /<h1>Signing keys<\/h1>/);
      const onAdminListener = await fetch(`${gatehouse.admin!.url}/console`, { redirect: 'manual' });
      assert.equal(onAdminListener.status, 404);
    } finally {
      await gatehouse.close();
    }
  });
});
