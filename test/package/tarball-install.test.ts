/**
 * Gatehouse as a new user gets it (issue 18 §1): the two packages are packed with `npm pack`,
 * and installed from those tarballs into empty folders outside the repository, where nothing of
 * the clone can help:
 *
 *  - `gatehouse-server` is installed into one folder; `npx gatehouse start` runs there on SQLite
 *    with a config file, prints no deprecation warning, and a code flow with PKCE and a resource
 *    indicator completes against it;
 *  - `gatehouse-resource` is installed into a second, separate project, which must not receive the
 *    server's dependencies (SQLite, argon2, Fastify), and its verifier accepts the access token of
 *    that flow (signature from the server's JWKS, issuer, audience, scope).
 *
 * better-sqlite3 has no prebuilt binary this machine can download (no network but the npm
 * registry), so the test hands prebuild-install the binary the checkout was built with, as a
 * local prebuild: the same file a user downloads from its releases. Everything else comes from
 * the tarballs and the npm registry (through npm's cache).
 *
 * Run: node scripts/run-tests.mjs test/package
 */
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { REPO } from '../helpers/cli.js';
import { INSTALLED_RESOURCE, codeFlowAgainst, freePort, installedConfigYaml } from '../helpers/installed-server.js';
import { useTempDir } from '../helpers/temp-dir.js';

const NODE_BIN = dirname(process.execPath);

let dir = '';
useTempDir('gatehouse-tarball-', (created) => (dir = created));

/** Runs a command to its end; the environment's PATH starts with the Node that runs the tests. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env, PATH: `${NODE_BIN}${delimiter}${process.env.PATH}` },
    timeout: 300_000,
  });
  assert.equal(result.status, 0, `${command} ${args.join(' ')} in ${cwd}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** `npm pack` of the package at `path`; returns the tarball's path. */
function pack(path: string): string {
  const result = run('npm', ['pack', path, '--pack-destination', dir, '--json'], REPO);
  const [packed] = JSON.parse(result.stdout.slice(result.stdout.indexOf('['))) as { filename: string }[];
  return join(dir, packed!.filename);
}

/** A folder with a bare package.json, as `npm init -y` leaves it. */
function emptyProject(name: string): string {
  const project = join(dir, name);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module' }));
  return project;
}

/** The checkout's better-sqlite3 binary, laid out as prebuild-install expects a downloaded prebuild. */
function localPrebuilds(): string {
  const module = join(REPO, 'node_modules', 'better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(module, 'package.json'), 'utf8')) as { version: string };
  const prebuilds = join(dir, 'prebuilds');
  mkdirSync(prebuilds);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  run('tar', ['-czf', join(prebuilds, name), '-C', module, 'build/Release/better_sqlite3.node'], REPO);
  return prebuilds;
}

function npmInstall(project: string, tarball: string, env: NodeJS.ProcessEnv = {}): string {
  const result = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], project, env);
  return result.stderr;
}

describe('issue 18 §1: installed from the tarballs, outside the clone', () => {
  let serverTarball = '';
  let resourceTarball = '';
  let installNoise = '';
  let issuer = '';
  let output = '';
  let child: ReturnType<typeof spawn> | undefined;

  before(async () => {
    serverTarball = pack('.');
    resourceTarball = pack('./packages/resource');
    const app = emptyProject('my-auth-server');
    installNoise = npmInstall(app, serverTarball, { npm_config_better_sqlite3_local_prebuilds: localPrebuilds() });
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    writeFileSync(join(app, 'gatehouse.yaml'), installedConfigYaml(issuer));
    child = spawn('npx', ['gatehouse', 'start', '--config', 'gatehouse.yaml', '--port', String(port)], {
      cwd: app,
      env: { ...process.env, PATH: `${NODE_BIN}${delimiter}${process.env.PATH}`, GATEHOUSE_SECRET: 'x'.repeat(43) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: npx runs the server as a child of its own
    });
    await new Promise<void>((resolve, reject) => {
      const read = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('Gatehouse is running.')) resolve();
      };
      child!.stdout!.on('data', read);
      child!.stderr!.on('data', read);
      child!.on('close', (code) => reject(new Error(`gatehouse start exited with ${code}:\n${output}`)));
    });
  });

  after(() => {
    if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
  });

  it('the tarball holds the compiled server, the CLI, the README and its docs/, the LICENSE and the CHANGELOG, and no sources or demo', () => {
    const listing = run('tar', ['-tzf', serverTarball], dir).stdout.split('\n');
    for (const file of [
      'bin/gatehouse.js',
      'dist/cli/main.js',
      'dist/resource/resource.d.ts',
      'README.md',
      'docs/README.md',
      'docs/reference/settings.md',
      'LICENSE',
      'CHANGELOG.md',
    ]) {
      assert.ok(listing.includes(`package/${file}`), `${file} is missing from the tarball`);
    }
    assert.deepEqual(
      listing.filter((file) => /^package\/(src|test|bench)\/|^package\/dist\/demo\/|\.map$/.test(file)),
      [],
    );
  });

  it('installing prints no engine warning on Node 22 and later (on Node 20, Fastify 5 needs cookie@2, which declares Node >= 22)', () => {
    const warned = [...installNoise.matchAll(/EBADENGINE\s+package: '([^']+)'/g)].map((match) => match[1]!);
    const expected =
      Number(process.versions.node.split('.')[0]) < 22 ? warned.filter((name) => /^cookie@2\./.test(name)) : [];
    assert.deepEqual(warned, expected, installNoise);
  });

  it('`npx gatehouse start` prints no deprecation warning', () => {
    assert.doesNotMatch(output, /Deprecation|DEP0|FSTDEP/i);
  });

  it('RFC 6749 §4.1 with RFC 7636 and RFC 8707: a code flow completes against the installed server', async () => {
    const tokens = await codeFlowAgainst(issuer);

    // The API: a separate project with only gatehouse-resource installed.
    const api = emptyProject('my-api');
    npmInstall(api, resourceTarball);
    for (const dependency of ['better-sqlite3', '@node-rs/argon2', 'fastify', 'pg', 'kysely', 'gatehouse-server']) {
      assert.ok(
        !existsSync(join(api, 'node_modules', dependency)),
        `${dependency} was installed with gatehouse-resource`,
      );
    }
    writeFileSync(
      join(api, 'verify.js'),
      [
        "import { createVerifier } from 'gatehouse-resource';",
        'const [issuer, audience, token] = process.argv.slice(2);',
        'const verifier = createVerifier({ issuer, audience });',
        'const request = new Request(audience, { headers: { authorization: `Bearer ${token}` } });',
        "const result = await verifier.verify(request, ['notes:read']);",
        'console.log(JSON.stringify(result));',
      ].join('\n'),
    );
    const verified = run(process.execPath, ['verify.js', issuer, INSTALLED_RESOURCE, tokens['access_token']!], api);
    const claims = JSON.parse(verified.stdout) as Record<string, unknown>;
    assert.equal(claims['iss'], issuer);
    assert.equal(claims['aud'], INSTALLED_RESOURCE);
    assert.equal(typeof claims['sub'], 'string');
    assert.match(String(claims['scope']), /(^| )notes:read( |$)/);
  });
});
