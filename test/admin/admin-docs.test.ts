/**
 * The curl examples of docs/operating.md run as documented (bash, curl and jq) against a real
 * server with an admin client, and do what the page says they do.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { AUTOMATION, startAdminServer } from './admin-harness.js';

const TOOLS = ['bash', 'curl', 'jq'].filter((tool) => spawnSync('which', [tool]).status !== 0);

it('docs/operating.md: the curl examples work as documented', {
  skip: TOOLS.length > 0 ? `missing ${TOOLS.join(', ')}` : false,
}, async () => {
  const page = await readFile(new URL('../../docs/operating.md', import.meta.url), 'utf8');
  const section = /<!-- curl-examples:start -->\n```sh\n([\s\S]*?)```\n<!-- curl-examples:end -->/.exec(page);
  assert.ok(section, 'the marked curl examples');
  // The audit trail is written within 20 ms, before the example that reads it.
  const server = await startAdminServer('sqlite::memory:', { audit: { flushIntervalMs: 20 } });
  try {
    const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-euo', 'pipefail', '-c', section[1]!], {
        env: {
          ...process.env,
          GATEHOUSE: server.url,
          CLIENT_ID: AUTOMATION.client_id,
          CLIENT_SECRET: AUTOMATION.client_secret,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      child.on('close', (status: number | null) => resolve({ status, stdout, stderr }));
    });
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.match(lines[0]!, /^[A-Za-z0-9_-]{43}$/, 'the new client secret');
    assert.equal(lines[1], '["https://billing.example/callback"]');
    assert.equal(lines[2], 'true', 'dora is disabled');
    assert.equal(lines[3], 'pending', 'the new key signs after its delay');
    assert.ok(
      lines.some((line) => line === `["client.created","${AUTOMATION.client_id}"]`),
      result.stdout,
    );
    assert.equal(lines.at(-1), '204');
    assert.equal(await server.store.clients.get('billing'), undefined);
  } finally {
    await server.close();
  }
});
