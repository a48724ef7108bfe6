/**
 * "Every guide's code runs in a test", checked mechanically: every code block of docs/guides/*.md
 * names the example file it shows (`<!-- example: PATH -->`), shows it verbatim (run
 * `node --import tsx scripts/guide-examples.ts --write` after changing a file), and a test under
 * test/ runs that file.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, readDoc } from '../helpers/docs.js';
import { guideBlocks, syncGuide } from '../helpers/guide-examples.js';

const GUIDES = readdirSync(join(REPO_ROOT, 'docs', 'guides'))
  .filter((name) => name.endsWith('.md'))
  .sort();

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}
const TESTS = testFiles(join(REPO_ROOT, 'test')).map((path) => ({ path, text: readFileSync(path, 'utf8') }));

/** Whether a test names the example file (as a path, an import without extension, or join()'s parts). */
function testedBy(file: string): string[] {
  const forms = [
    file,
    file.replace(/\.[a-z]+$/, ''),
    file
      .split('/')
      .map((part) => `'${part}'`)
      .join(', '),
  ];
  return TESTS.filter(({ text }) => forms.some((form) => text.includes(form))).map(({ path }) => path);
}

describe('docs/guides: every guide shows code that a test runs', () => {
  test('the guides are the six client types', () => {
    for (const guide of [
      'web-app.md',
      'spa.md',
      'native-app.md',
      'machine-to-machine.md',
      'mcp.md',
      'protect-an-api.md',
    ])
      assert.ok(GUIDES.includes(guide), guide);
  });

  for (const guide of GUIDES) {
    test(`docs/guides/${guide}: every code block is an example file, verbatim, run by a test`, () => {
      const markdown = readDoc(`guides/${guide}`);
      const blocks = guideBlocks(markdown);
      assert.ok(blocks.length > 0, 'the guide shows code');
      for (const block of blocks) {
        assert.ok(block.file, `the code block at line ${block.line} names its example file`);
        assert.ok(existsSync(join(REPO_ROOT, block.file)), `${block.file} exists`);
        assert.equal(
          `${block.code}\n`,
          readFileSync(join(REPO_ROOT, block.file), 'utf8'),
          `${block.file} is shown verbatim (run: node --import tsx scripts/guide-examples.ts --write)`,
        );
        assert.ok(testedBy(block.file).length > 0, `a test under test/ runs ${block.file}`);
      }
      assert.equal(syncGuide(markdown, REPO_ROOT), markdown);
    });
  }
});
