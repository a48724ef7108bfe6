/**
 * `gatehouse doctor` end to end: the CLI's `--json` output and exit code over a config file and
 * a database, the database's real clock and durability settings on SQLite and PostgreSQL, and
 * `--url` against an in-process server (a healthy one, and one whose endpoints and keys fail).
 *
 * Run: node scripts/run-tests.mjs test/doctor
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkDatabase } from '../../src/core/doctor/database-checks.js';
import { checkRunningDeployment, type Finding } from '../../src/core/doctor/run-doctor.js';
import { openStore } from '../../src/store/open-store.js';
import { serverMetadata } from '../../src/core/oidc/server-metadata.js';
import type { RunningGatehouse } from '../../src/server.js';
import { runCli } from '../helpers/cli.js';
import { STORE_TARGETS, onStoreTarget, startTestServer } from '../helpers/server.js';
import { useTempDir } from '../helpers/temp-dir.js';

let dir: string;
useTempDir('gatehouse-doctor-', (created) => (dir = created));

interface DoctorJson {
  ok: boolean;
  findings: Finding[];
}

async function doctor(args: string[]): Promise<{ code: number | null; report: DoctorJson }> {
  const run = await runCli(['doctor', ...args, '--json']);
  assert.equal(run.stderr, '', 'nothing on stderr');
  return { code: run.code, report: JSON.parse(run.stdout) as DoctorJson };
}

const checksOf = (findings: Finding[], severity: Finding['severity']) =>
  findings.filter((item) => item.severity === severity).map((item) => item.check);

describe('gatehouse doctor: the CLI', () => {
  test('--json lists the findings with clause and fix; exit code 1 with an error-level finding, 0 without', async () => {
    const config = join(dir, 'fapi2.yaml');
    const lines = ['issuer: https://auth.example.com', 'trust_proxy: 10.0.0.0/8', 'profile: fapi2'];
    await writeFile(
      config,
      [
        ...lines,
        'clients:',
        '  - client_id: bank-app',
        '    client_secret: a-long-enough-client-secret-0123456789',
        '    redirect_uris: [https://bank.example/cb]',
        '',
      ].join('\n'),
    );
    const database = join(dir, 'absent.db');
    const broken = await doctor(['--config', config, '--database', `sqlite:${database}`]);
    assert.equal(broken.code, 1);
    assert.equal(broken.report.ok, false);
    const error = broken.report.findings.find((item) => item.check === 'profile.fapi2.private-key-jwt');
    assert.ok(error, JSON.stringify(broken.report.findings));
    assert.equal(error.severity, 'error');
    assert.equal(error.clause, 'FAPI 2.0 §5.3.2.1');
    assert.match(error.fix, /token_endpoint_auth_method: private_key_jwt/);
    // Errors come first; doctor never creates the database it was pointed at.
    assert.equal(broken.report.findings[0]!.severity, 'error');
    assert.ok(checksOf(broken.report.findings, 'info').includes('database.present'));
    assert.equal(existsSync(database), false);

    await writeFile(config, `${lines.join('\n')}\n`);
    const healthy = await doctor(['--config', config, '--database', `sqlite:${database}`]);
    assert.equal(healthy.code, 0, JSON.stringify(healthy.report.findings));
    assert.equal(healthy.report.ok, true);
    assert.deepEqual(checksOf(healthy.report.findings, 'error'), []);
  });

  test('a configuration Gatehouse refuses is one error finding (config.load), exit code 1, in text output too', async () => {
    const config = join(dir, 'http.yaml');
    await writeFile(config, 'issuer: http://auth.example.com\n');
    const run = await runCli(['doctor', '--config', config, '--database', 'sqlite::memory:']);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^ERROR {3}config\.load {2}\[Gatehouse\]\n.*not https/m);
    assert.match(run.stdout, /1 error, 0 warning, 0 info/);
  });
});

for (const target of STORE_TARGETS) {
  test(
    `gatehouse doctor: the database's own clock and durability settings on ${target.name} are read and pass`,
    onStoreTarget(target, async (url) => {
      const databaseUrl = target.name === 'sqlite' ? `sqlite:${join(dir, 'durable.db')}` : url;
      const store = await openStore(databaseUrl);
      try {
        await store.migrate();
        const diagnostics = await store.diagnostics();
        assert.ok(Math.abs(diagnostics.now - Date.now()) < 5_000, `database clock ${diagnostics.now}`);
        const expected =
          target.name === 'sqlite'
            ? { journal_mode: 'wal', synchronous: 'normal' }
            : {
                fsync: diagnostics.durability['fsync'],
                synchronous_commit: diagnostics.durability['synchronous_commit'],
              };
        assert.deepEqual(diagnostics.durability, expected);
        const findings = checkDatabase({ ...diagnostics, dialect: store.dialect }, Date.now());
        assert.equal(findings.filter((item) => item.check === 'database.clock').length, 0);
        if (target.name === 'sqlite') assert.deepEqual(checksOf(findings, 'error'), []);
      } finally {
        await store.close();
      }
    }),
  );
}

describe('gatehouse doctor --url: a running deployment', () => {
  let gatehouse: RunningGatehouse;
  before(async () => {
    gatehouse = await startTestServer();
  });
  after(async () => {
    await gatehouse.close();
  });

  test('RFC 8414 §3: the CLI checks an in-process server: every advertised endpoint answers, every algorithm has a key (exit 0)', async () => {
    const absent = `sqlite:${join(dir, 'not-created.db')}`;
    const { code, report } = await doctor(['--database', absent, '--url', gatehouse.url]);
    assert.deepEqual(checksOf(report.findings, 'error'), []);
    assert.equal(code, 0);
    const endpoints = report.findings.find((item) => item.check === 'discovery.endpoint');
    assert.match(endpoints?.message ?? '', /all \d+ advertised endpoints answer/);
  });

  test('RFC 8414 §2: an endpoint answering 503 and an advertised algorithm without a key are errors', async () => {
    const failing = async (url: string, init?: { method?: string; redirect?: 'manual' }): Promise<Response> => {
      if (url.endsWith('/userinfo')) return new Response('down', { status: 503 });
      if (url.endsWith('/jwks')) return Response.json({ keys: [] });
      return fetch(url, init);
    };
    const findings = await checkRunningDeployment(gatehouse.url, failing);
    assert.ok(
      findings.some(
        (item) => item.severity === 'error' && item.check === 'discovery.endpoint' && /userinfo/.test(item.message),
      ),
      JSON.stringify(findings),
    );
    assert.ok(findings.some((item) => item.check === 'discovery.algorithm' && /ES256/.test(item.message)));
  });

  test('RFC 8414 §2: the deployment publishes what the configuration gives; a differing member is a warning, another issuer an error', async () => {
    const settings = gatehouse.context.settings;
    const same = await checkRunningDeployment(gatehouse.url, fetch, serverMetadata(settings));
    assert.ok(same.some((item) => item.severity === 'info' && item.check === 'discovery.consistency'));
    const stricter = serverMetadata({ ...settings, requirePushedAuthorizationRequests: true });
    const differing = await checkRunningDeployment(gatehouse.url, fetch, stricter);
    const warning = differing.find((item) => item.check === 'discovery.consistency');
    assert.equal(warning?.severity, 'warning');
    assert.match(warning.message, /require_pushed_authorization_requests/);
    const other = await checkRunningDeployment(
      gatehouse.url,
      fetch,
      serverMetadata({ ...settings, issuer: 'https://auth.example.com' }),
    );
    assert.ok(other.some((item) => item.severity === 'error' && item.check === 'discovery.issuer'));
  });

  test('RFC 8414 §3.3: a deployment answering for another issuer, or not at all, is an error', async () => {
    const elsewhere = await checkRunningDeployment(gatehouse.url, (url, init) =>
      url.endsWith('/.well-known/openid-configuration')
        ? Promise.resolve(Response.json({ issuer: 'https://other.example.com' }))
        : fetch(url, init),
    );
    assert.ok(elsewhere.some((item) => item.severity === 'error' && item.check === 'discovery.issuer'));
    const down = await checkRunningDeployment('http://127.0.0.1:9', (url, init) => fetch(url, init));
    assert.deepEqual(checksOf(down, 'error'), ['discovery.document']);
  });
});
