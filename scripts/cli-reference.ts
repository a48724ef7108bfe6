/**
 * Prints the CLI reference generated from the commander command definitions (src/cli/main.ts);
 * with `--write` it rewrites docs/reference/cli.md.
 */
import { writeFile } from 'node:fs/promises';
import { cliReference } from '../src/cli/cli-reference.js';

const reference = cliReference();
if (process.argv.includes('--write')) {
  await writeFile(new URL('../docs/reference/cli.md', import.meta.url), reference);
} else {
  process.stdout.write(reference);
}
