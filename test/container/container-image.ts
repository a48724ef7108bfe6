/**
 * The container image (issue 18 §1), built from ./Containerfile by scripts/container/build.sh and
 * run with podman: it starts as a non-root user, configured by environment (GATEHOUSE_ISSUER,
 * GATEHOUSE_SECRET, GATEHOUSE_CONFIG, PORT), keeps its SQLite database on the mounted volume,
 * passes its own health check on /healthz, serves discovery, and completes a code flow; after a
 * restart on the same volume the registered client and user are still there.
 *
 * Not part of `npm test` (building the image takes minutes and needs podman, runc and
 * debootstrap): `npm run test:container`, which `.ci/run` runs after the suite.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';
import { codeFlowAgainst, freePort, installedConfigYaml } from '../helpers/installed-server.js';

const IMAGE = 'localhost/gatehouse-server:test';
const NAME = `gatehouse-test-${process.pid}`;

/** podman with the options of scripts/container/podman-options.sh (runc; limits within the caller's). */
function podman(args: string[], timeout = 120_000) {
  const script = `source scripts/container/podman-options.sh && podman "\${PODMAN_GLOBAL[@]}" "$@"`;
  const result = spawnSync('bash', ['-c', script, 'podman', ...args], { cwd: REPO, encoding: 'utf8', timeout });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function podmanOk(args: string[], timeout?: number): string {
  const result = podman(args, timeout);
  assert.equal(result.status, 0, `podman ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout.trim();
}

/** `podman run -d` of the image with the volume and the config, listening on `port` of the host network. */
function runContainer(volume: string, config: string, port: number): void {
  const limits = spawnSync(
    'bash',
    ['-c', 'source scripts/container/podman-options.sh && printf "%s\\n" "${PODMAN_LIMITS[@]}"'],
    {
      cwd: REPO,
      encoding: 'utf8',
    },
  )
    .stdout.trim()
    .split('\n');
  podmanOk([
    'run',
    '-d',
    '--name',
    NAME,
    '--network',
    'host',
    ...limits,
    '-v',
    `${volume}:/var/lib/gatehouse`,
    '-v',
    `${config}:/etc/gatehouse/gatehouse.yaml:ro`,
    '-e',
    `PORT=${port}`,
    '-e',
    `GATEHOUSE_ISSUER=http://127.0.0.1:${port}`,
    '-e',
    'GATEHOUSE_CONFIG=/etc/gatehouse/gatehouse.yaml',
    '-e',
    `GATEHOUSE_SECRET=${'s'.repeat(43)}`,
    IMAGE,
  ]);
}

async function waitForHealth(issuer: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${issuer}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no answer on ${issuer}/healthz:\n${podman(['logs', NAME]).stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('issue 18 §1: the container image', () => {
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-container-'));
  const volume = join(work, 'data');
  const config = join(work, 'gatehouse.yaml');
  let issuer = '';

  before(async () => {
    const built = spawnSync('bash', ['scripts/container/build.sh', IMAGE], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 1_200_000,
    });
    assert.equal(built.status, 0, `build.sh:\n${built.stdout}\n${built.stderr}`);
    spawnSync('mkdir', ['-p', volume]);
    chmodSync(volume, 0o777); // the container's user (uid 10001) writes the database here
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    // The database comes from the image's environment (GATEHOUSE_DATABASE_URL, on the volume).
    writeFileSync(config, installedConfigYaml(issuer).replace(/^database: .*\n/m, ''));
    runContainer(volume, config, port);
    await waitForHealth(issuer);
  });

  after(() => {
    podman(['rm', '-f', NAME]);
    rmSync(work, { recursive: true, force: true });
  });

  it('runs as a non-root user', () => {
    assert.equal(podmanOk(['inspect', '--format', '{{.Config.User}}', IMAGE]), 'gatehouse');
    assert.notEqual(podmanOk(['exec', NAME, 'id', '-u']), '0');
  });

  it('its health check on /healthz passes', () => {
    assert.match(podmanOk(['image', 'inspect', '--format', '{{json .HealthCheck}}', IMAGE]), /healthz/);
    podmanOk(['healthcheck', 'run', NAME]);
  });

  it('RFC 8414 §3: serves discovery for the issuer set by environment', async () => {
    const response = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { issuer: string }).issuer, issuer);
  });

  it('RFC 6749 §4.1: a code flow completes against the container, and the data survives a restart on the volume', async () => {
    await codeFlowAgainst(issuer);
    podmanOk(['restart', NAME]);
    await waitForHealth(issuer);
    await codeFlowAgainst(issuer);
    assert.match(podmanOk(['exec', NAME, 'ls', '/var/lib/gatehouse']), /gatehouse\.db/);
  });
});
