/**
 * `gatehouse flows [--follow] [--client ID] [--failed]`: the flow inspector's story in the
 * terminal, read from the store: the audit trail's events grouped by flow id (so flows show with
 * the inspector off, as in production), with the steps a running Gatehouse with the inspector
 * recorded merged in.
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

  it('with the inspector off tells the same story from the audit trail: a code flow that succeeded, one that failed at its token request (RFC 7636 §4.6); --failed, --client and --follow', async () => {
    const database = `sqlite:${join(dir, 'audit-flows.db')}`;
    const gatehouse = await startTestServer({ databaseUrl: database, audit: { flushIntervalMs: 50 } });
    const env = { GATEHOUSE_SECRET: TEST_SECRET };
    try {
      assert.equal(gatehouse.context.inspector, undefined, 'the inspector is off');
      const good = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
      const tokens = await postToken(gatehouse, codeRequest(good), { basic });
      assert.equal(tokens.status, 200);
      const bad = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
      const refused = await postToken(gatehouse, { ...codeRequest(bad), code_verifier: 'x'.repeat(43) }, { basic });
      assert.equal(refused.status, 400, refused.text);
      await gatehouse.audit.flush();

      const all = await runCli(['flows', '--database', database], { env });
      assert.equal(all.code, 0, all.stderr);
      const headers = all.stdout.split('\n').filter((line) => line.startsWith('flow '));
      assert.equal(headers.length, 2, all.stdout);
      // Newest first: the refused flow, then the one that got its tokens.
      assert.match(headers[0]!, /^flow \S+ {2}client web-app {2}user alice {2}authorization_code {2}failed at step 3 /);
      assert.match(headers[1]!, /^flow \S+ {2}client web-app {2}user alice {2}authorization_code {2}succeeded /);
      assert.match(all.stdout, /front {2}Browser → Gatehouse {2}POST \/interaction \(sign-in\)/);
      assert.match(all.stdout, /back {3}Client → Gatehouse {2}POST \/token/);
      assert.match(all.stdout, /\(from the audit trail\)/);
      assert.match(all.stdout, /error: invalid_grant: /);
      assert.match(
        all.stdout,
        /rule: The code_verifier sent to the token endpoint must hash \(S256\).*\(RFC 7636 §4\.6, https:\/\/www\.rfc-editor\.org\/rfc\/rfc7636#section-4\.6\)/,
      );
      for (const secret of [
        good.code,
        bad.code,
        good.verifier!,
        CONFIDENTIAL_CLIENT.client_secret!,
        tokens.body['access_token'] as string,
      ])
        assert.ok(!all.stdout.includes(secret), 'no secret in the output');

      const failed = await runCli(['flows', '--failed', '--client', 'web-app', '--json', '--database', database], {
        env,
      });
      assert.equal(failed.code, 0, failed.stderr);
      const flows = JSON.parse(failed.stdout) as Array<{
        clientId: string;
        user: string;
        state: { kind: string; step: number };
      }>;
      assert.equal(flows.length, 1);
      assert.deepEqual(
        { client: flows[0]!.clientId, user: flows[0]!.user, state: flows[0]!.state },
        { client: 'web-app', user: 'alice', state: { kind: 'failed', step: 3 } },
      );
      const other = await runCli(['flows', '--client', 'nobody', '--database', database], { env });
      assert.equal(other.code, 0, other.stderr);
      assert.match(other.stdout, /No flows recorded/);

      // --follow polls the audit trail: a token request refused after it started is printed.
      const following = spawnCli(['flows', '--follow', '--failed', '--database', database], { env });
      const waitFor = async (pattern: RegExp) => {
        for (let i = 0; i < 150 && !pattern.test(following.output()); i += 1)
          await new Promise((resolve) => setTimeout(resolve, 100));
        assert.match(following.output(), pattern);
      };
      try {
        await waitFor(/Following new steps/);
        const replayed = await postToken(gatehouse, codeRequest(good), { basic });
        assert.equal(replayed.status, 400);
        await gatehouse.audit.flush();
        await waitFor(/Following new steps[\s\S]*POST \/token[\s\S]*rule: An authorization code may be redeemed once/);
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
