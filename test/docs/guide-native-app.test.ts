/**
 * docs/guides/native-app.md, run: the command-line app of examples/guides/native-app/loopback.ts,
 * registered by examples/guides/native-app/gatehouse.yaml, signs Alice in through a loopback
 * redirect on a port of its choosing (RFC 8252 §7.3) with PKCE (RFC 8252 §8.1), then refreshes.
 * The guide's device flow (examples/device-flow.sh) is run by test/device/readme-device-flow.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signInWithBrowser } from '../../examples/guides/native-app/loopback.js';
import type { RunningGatehouse } from '../../src/server.js';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { readDoc } from '../helpers/docs.js';
import { guideSettings, startGuideServer } from '../helpers/guides.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { ALICE } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';

let gatehouse: RunningGatehouse;
before(async () => {
  gatehouse = await startGuideServer('examples/guides/native-app/gatehouse.yaml');
});
after(async () => {
  await gatehouse.close();
});

let dir = '';
useTempDir('gatehouse-native-guide-', (created) => (dir = created));

describe('docs/guides/native-app.md', () => {
  test('RFC 8252 §7.3: the gatehouse clients create command of the guide registers the client of its config file', async () => {
    const command = /`gatehouse (clients create --client-id my-cli[^`]*)`/.exec(readDoc('guides/native-app.md'))?.[1];
    assert.ok(command, 'the guide shows the command');
    const args = [...command.replace(/\s+/g, ' ').matchAll(/"([^"]*)"|(\S+)/g)].map((token) => token[1] ?? token[2]!);
    const database = `sqlite:${join(dir, 'gatehouse.db')}`;
    const created = await runCli([...args, '--database', database]);
    assert.equal(created.code, 0, created.stderr);
    const shown = await runCli(['clients', 'show', 'my-cli', '--json', '--database', database]);
    assert.equal(shown.code, 0, shown.stderr);
    const client = JSON.parse(shown.stdout) as Record<string, unknown>;
    const configured = (await guideSettings('examples/guides/native-app/gatehouse.yaml')).clients[0]!;
    for (const field of ['redirect_uris', 'grant_types', 'scope', 'token_endpoint_auth_method'] as const)
      assert.deepEqual(
        client[field] ?? client[field.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase())],
        configured[field],
        field,
      );
  });

  test('RFC 8252 §7.3: the app receives the code on its own loopback port, redeems it with PKCE alone, and refreshes', async () => {
    let browserSaw = '';
    const { tokens, claims, refresh } = await signInWithBrowser({
      issuer: gatehouse.url,
      clientId: 'my-cli',
      openBrowser: async (url) => {
        // The system browser: signs in and consents at Gatehouse, then follows the redirect to the app.
        const redirect = await new UserAgent(gatehouse.url).authorize(url.href, ALICE);
        assert.match(redirect.location!, /^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
        browserSaw = await (await fetch(redirect.location!)).text();
      },
    });
    assert.equal(browserSaw, 'Signed in. You can close this window.');
    assert.equal(claims.aud, 'my-cli');
    assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
    const refreshed = await refresh();
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'RFC 9700 §4.14.2: the refresh token rotates');
  });
});
