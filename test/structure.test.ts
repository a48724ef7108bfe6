/**
 * scripts/check-structure.mjs (run by `npm test` before the tests): it must fail on an import
 * cycle, on two files with one name and on a file over 500 lines, and pass a tidy tree, so that
 * the check cannot pass silently. Each case is a tiny tree written to a temporary directory.
 *
 * Run: node --import tsx --test test/structure.test.ts
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const SCRIPT = join(import.meta.dirname, '..', 'scripts', 'check-structure.mjs');
const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-structure-'));
  made.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function check(root: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('scripts/check-structure.mjs', () => {
  it('passes a tree without cycles, shared names or long files', () => {
    const root = tree({
      'a/endpoint.ts':
        "import { helper } from '../b/helper.js';\nimport type { T } from './types.js';\nexport const x = helper;\n",
      'a/types.ts': 'export type T = string;\n',
      'b/helper.ts':
        "// import { x } from '../a/endpoint.js';\nexport const helper = `import { x } from '../a/endpoint.js'`;\n",
    });
    const { status, output } = check(root);
    assert.equal(status, 0, output);
    assert.match(output, /3 files/);
  });

  const failing: Array<[name: string, files: Record<string, string>, message: RegExp]> = [
    [
      'fails on an import cycle and prints it',
      {
        'token/endpoint.ts': "import { grant } from './grants/grant.js';\nexport const issue = () => grant;\n",
        'token/grants/grant.ts': "import { issue } from '../endpoint.js';\nexport const grant = () => issue;\n",
      },
      /import cycle: \S*token\/endpoint\.ts -> \S*token\/grants\/grant\.ts -> \S*token\/endpoint\.ts/,
    ],
    [
      'counts type-only and dynamic imports in a cycle',
      {
        'one.ts': "import type { Two } from './two.js';\nexport type One = Two | 1;\n",
        'two.ts': "export type Two = 2;\nexport const load = () => import('./three.js');\n",
        'three.ts': "import type { One } from './one.js';\nexport type Three = One;\n",
      },
      /import cycle: \S*one\.ts -> \S*two\.ts -> \S*three\.ts -> \S*one\.ts/,
    ],
    [
      'fails on two files with the same name in different folders',
      { 'store/cleanup.ts': 'export const a = 1;\n', 'core/cleanup.ts': 'export const b = 2;\n' },
      /files share the name cleanup\.ts: \S*core\/cleanup\.ts, \S*store\/cleanup\.ts/,
    ],
  ];
  for (const [name, files, message] of failing) {
    it(name, () => {
      const { status, output } = check(tree(files));
      assert.equal(status, 1);
      assert.match(output, message);
    });
  }

  it('fails on a file over 500 lines, not on one of 500', () => {
    const root = tree({
      'long.ts': 'export const x = 1;\n'.repeat(501),
      'fits.ts': 'export const y = 1;\n'.repeat(500),
    });
    const { status, output } = check(root);
    assert.equal(status, 1);
    assert.match(output, /long\.ts has 501 lines \(at most 500\)/);
    assert.doesNotMatch(output, /fits\.ts/);
  });
});
