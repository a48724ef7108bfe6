/**
 * The server's runtime dependencies carry no demo code (issue 17): the demo's client-side
 * libraries (openid-client, oauth4webapi) are development dependencies, only src/demo imports
 * them, the published package leaves dist/demo out, and `gatehouse demo` without the demo says
 * how to get it instead of printing a module-resolution trace.
 *
 * Run: node scripts/run-tests.mjs test/package
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO } from '../helpers/cli.js';

const DEMO_CLIENT_LIBRARIES = ['openid-client', 'oauth4webapi'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('runtime dependencies', () => {
  const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
    files: string[];
  };

  it('the demo client libraries are development dependencies, not runtime ones', () => {
    for (const name of DEMO_CLIENT_LIBRARIES) {
      assert.equal(manifest.dependencies[name], undefined, `${name} is a runtime dependency`);
      assert.ok(manifest.devDependencies[name], `${name} is missing from devDependencies`);
    }
  });

  it('only src/demo imports them', () => {
    const importers = sourceFiles(join(REPO, 'src'))
      .filter((file) => !relative(REPO, file).startsWith(join('src', 'demo')))
      .filter((file) =>
        DEMO_CLIENT_LIBRARIES.some((name) =>
          new RegExp(`from '${name}|import\\('${name}|resolve\\('${name}`).test(readFileSync(file, 'utf8')),
        ),
      );
    assert.deepEqual(importers, []);
  });

  it('the published package leaves dist/demo out and keeps the server', () => {
    const packed = spawnSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], {
      cwd: REPO,
      encoding: 'utf8',
    });
    assert.equal(packed.status, 0, packed.stderr);
    const files = (JSON.parse(packed.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map(
      (file) => file.path,
    );
    assert.deepEqual(
      files.filter((path) => path.startsWith('dist/demo/')),
      [],
    );
    assert.ok(files.includes('dist/cli/main.js'), 'dist/cli/main.js is not packed (is dist built?)');
    assert.ok(files.includes('dist/server.js'));
  });

  it('`gatehouse demo` in an installation without the demo explains, exit code 1, no stack trace', () => {
    // The published layout: bin/ and dist/ without dist/demo, beside the runtime node_modules.
    const install = mkdtempSync(join(tmpdir(), 'gatehouse-no-demo-'));
    try {
      cpSync(join(REPO, 'bin'), join(install, 'bin'), { recursive: true });
      cpSync(join(REPO, 'dist'), join(install, 'dist'), {
        recursive: true,
        filter: (source) => !source.startsWith(join(REPO, 'dist', 'demo')),
      });
      cpSync(join(REPO, 'package.json'), join(install, 'package.json'));
      symlinkSync(join(REPO, 'node_modules'), join(install, 'node_modules'));
      const run = spawnSync(process.execPath, [join(install, 'bin', 'gatehouse.js'), 'demo'], {
        cwd: install,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', GATEHOUSE_SECRET: 'a-secret-for-this-test-that-is-long-enough' },
        timeout: 30_000,
      });
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, /the demo is not part of this installation/);
      assert.match(run.stderr, /clone of Gatehouse after `npm install`/);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'a stack trace was printed');
    } finally {
      rmSync(install, { recursive: true, force: true });
    }
  });
});
