/**
 * Copies the example files into the code blocks of docs/guides/*.md that name them
 * (`<!-- example: PATH -->` before the block). `--write` rewrites the guides; without it, the
 * guides that are not up to date are listed and the exit code is 1.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syncGuide } from '../test/helpers/guide-examples.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const guides = join(repo, 'docs', 'guides');
let stale = 0;
for (const name of readdirSync(guides).filter((file) => file.endsWith('.md'))) {
  const path = join(guides, name);
  const markdown = readFileSync(path, 'utf8');
  const synced = syncGuide(markdown, repo);
  if (synced === markdown) continue;
  if (process.argv.includes('--write')) writeFileSync(path, synced);
  else {
    stale++;
    process.stdout.write(`docs/guides/${name} is not up to date\n`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
