/**
 * `gatehouse flows [--follow] [--client ID] [--failed]`: the flow inspector's story in the
 * terminal, read from the store (the steps a running Gatehouse with the inspector recorded).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { secretHash } from '../../src/core/inspector/flow-model.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { codeRequest, obtainCode, postToken } from '../helpers/code-flow.js';
import { CONFIDENTIAL_CLIENT, TEST_SECRET, startTestServer } from '../helpers/server.js';
import { useTempDir } from '../helpers/temp-dir.js';

const basic = { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! };

describe('gatehouse flows', () => {
  let dir = '';
  useTempDir('gatehouse-flows-', (created) => {
    dir = created;
  });

  it('tells each flow step by step, with the failing rule and its § reference; --failed and --client filter; --follow prints new steps', async () => {
    const database = `sqlite:${join(dir, 'flows.db')}`;
    const gatehouse = await startTestServer({
      databaseUrl: database,
      settings: { inspector: { ...DEFAULT_SETTINGS.inspector, enabled: true } },
    });
    const env = { GATEHOUSE_SECRET: TEST_SECRET };
    try {
      const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
      const tokens = await postToken(gatehouse, codeRequest(obtained), { basic });
      assert.equal(tokens.status, 200);
      assert.equal((await postToken(gatehouse, codeRequest(obtained), { basic })).status, 400);
      await gatehouse.context.inspector!.flush();

      const all = await runCli(['flows', '--database', database], { env });
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, /flow \S+ {2}client web-app {2}user alice {2}authorization_code {2}failed at step \d+/);
      assert.match(all.stdout, /front {2}Browser → Gatehouse {2}GET \/authorize/);
      assert.match(all.stdout, /back {3}Client → Gatehouse {2}POST \/token/);
      assert.match(
        all.stdout,
        /rule: An authorization code may be redeemed once.*\(RFC 6749 §4\.1\.2, https:\/\/www\.rfc-editor\.org\/rfc\/rfc6749#section-4\.1\.2\)/,
      );
      assert.match(all.stdout, new RegExp(`code=${secretHash(obtained.code)}`));
      for (const secret of [
        obtained.code,
        obtained.verifier!,
        CONFIDENTIAL_CLIENT.client_secret!,
        tokens.body['access_token'] as string,
      ])
        assert.ok(!all.stdout.includes(secret), 'no secret in the output');

      const failed = await runCli(['flows', '--failed', '--client', 'web-app', '--json', '--database', database], {
        env,
      });
      assert.equal(failed.code, 0, failed.stderr);
      const flows = JSON.parse(failed.stdout) as Array<{ clientId: string; state: { kind: string } }>;
      assert.equal(flows.length, 1);
      assert.equal(flows[0]!.state.kind, 'failed');
      const other = await runCli(['flows', '--client', 'nobody', '--database', database], { env });
      assert.match(other.stdout, /No flows recorded/);

      // --follow: a step recorded after it started is printed.
      const following = spawnCli(['flows', '--follow', '--client', 'web-app', '--database', database], { env });
      const waitFor = async (pattern: RegExp) => {
        for (let i = 0; i < 150 && !pattern.test(following.output()); i += 1)
          await new Promise((resolve) => setTimeout(resolve, 100));
        assert.match(following.output(), pattern);
      };
      try {
        await waitFor(/Following new steps/);
        await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
        await gatehouse.context.inspector!.flush();
        // The first flow's /authorize, then the new flow's, printed as it arrived.
        await waitFor(/GET \/authorize[\s\S]*Following new steps[\s\S]*GET \/authorize/);
      } finally {
        following.child.kill('SIGINT');
        const { code } = await following.exited;
        assert.equal(code, 0, following.output());
      }
    } finally {
      await gatehouse.close();
    }
  });
});
