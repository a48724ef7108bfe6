/**
 * The "Devices and agents" walk-through (docs/devices-and-agents.md), run as written: the
 * `gatehouse clients create` command of the page creates the device client, then
 * examples/device-flow.sh (shown on the page, and in docs/guides/native-app.md, verbatim) runs with curl and jq against a live Gatehouse while a scripted user opens
 * the verification page it prints, signs in, enters the code and allows; the script prints the
 * tokens and exits 0.
 *
 * Run: node scripts/run-tests.mjs test/device
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, REPO } from '../helpers/cli.js';
import { ALICE, startTestServer } from '../helpers/server.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { UserAgent } from '../helpers/user-agent.js';
import { verifyDevice } from '../helpers/device-flow.js';

const PAGE = readFileSync(join(REPO, 'docs', 'devices-and-agents.md'), 'utf8');
const SCRIPT = join(REPO, 'examples', 'device-flow.sh');

/** The page's `gatehouse clients create --client-id my-cli ...` command, as arguments. */
function readmeClientCommand(): string[] {
  const match = /^gatehouse (clients create --client-id my-cli(?:[^\n]*\\\n)*[^\n]*)$/m.exec(PAGE);
  assert.ok(match, 'docs/devices-and-agents.md shows how to create the device client');
  const line = match[1]!.replace(/\\\n/g, ' ');
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((token) => token[1] ?? token[2]!);
}

let dir = '';
useTempDir('gatehouse-device-readme-', (created) => (dir = created));

it('RFC 8628 §3.1-3.5: the documented device flow with curl works as written', async () => {
  const script = readFileSync(SCRIPT, 'utf8');
  assert.ok(
    PAGE.includes(script.slice(script.indexOf('set -euo pipefail'))),
    'docs/devices-and-agents.md shows the script verbatim',
  );
  const database = `sqlite:${join(dir, 'gatehouse.db')}`;
  const created = await runCli([...readmeClientCommand(), '--database', database]);
  assert.equal(created.code, 0, created.stderr);
  const gatehouse = await startTestServer({
    databaseUrl: database,
    clients: [],
    settings: { deviceCodeIntervalSeconds: 1 },
  });
  try {
    const child = spawn('bash', [SCRIPT], {
      env: { PATH: process.env.PATH, GATEHOUSE: gatehouse.url, CLIENT_ID: 'my-cli' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const prompt = await new Promise<RegExpExecArray>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const found = /^Open (\S+) and enter the code (\S+)$/m.exec(stdout);
        if (found) resolve(found);
      });
      child.on('close', () => reject(new Error(`the script ended first: ${stdout} ${stderr}`)));
    });
    const [, verificationUri, userCode] = prompt;
    assert.equal(verificationUri, `${gatehouse.url}/device`);
    const done = await verifyDevice(new UserAgent(gatehouse.url), verificationUri!, ALICE, userCode, 'allow');
    assert.match(done.body, /Device connected/);
    assert.equal(await exited, 0, stderr);
    const tokens = JSON.parse(stdout.slice(stdout.indexOf('{'))) as Record<string, unknown>;
    assert.equal(tokens['token_type'], 'Bearer');
    assert.equal(typeof tokens['access_token'], 'string');
    assert.equal(typeof tokens['refresh_token'], 'string');
    assert.equal(typeof tokens['id_token'], 'string');
  } finally {
    await gatehouse.close();
  }
});
