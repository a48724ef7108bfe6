/**
 * docs/reference/cli.md is the help the command definitions generate (src/cli/cli-reference.ts);
 * after a change to a command, `node --import tsx scripts/cli-reference.ts --write` rewrites it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cliReference } from '../../src/cli/cli-reference.js';
import { buildProgram } from '../../src/cli/main.js';
import { readDoc } from '../helpers/docs.js';

describe('docs/reference/cli.md', () => {
  test('is the reference the command definitions generate (run: node --import tsx scripts/cli-reference.ts --write)', () => {
    assert.equal(readDoc('reference/cli.md'), cliReference());
  });

  test('has a section, with its help, for every command and subcommand', () => {
    const page = readDoc('reference/cli.md');
    const program = buildProgram();
    for (const command of program.commands) {
      assert.ok(page.includes(`\n## gatehouse ${command.name()}\n`), command.name());
      for (const sub of command.commands) {
        const heading = `\n## gatehouse ${command.name()} ${sub.name()}\n`;
        assert.ok(page.includes(heading), `${command.name()} ${sub.name()}`);
        assert.match(page.slice(page.indexOf(heading)), new RegExp(`Usage: gatehouse ${command.name()} ${sub.name()}`));
      }
    }
    assert.match(page, /## gatehouse clients create\n\n```text\nUsage: gatehouse clients create \[options\]/);
  });
});
