/**
 * The documentation as tests read it: README.md and the pages under docs/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DOCS_DIR = join(REPO_ROOT, 'docs');

/** A page of docs/, e.g. `configuration.md` or `guides/web-app.md`. */
export function readDoc(page: string): string {
  return readFileSync(join(DOCS_DIR, page), 'utf8');
}

/** Every Markdown file of the documentation (README.md and docs/**), relative to the repository. */
export function markdownFiles(): string[] {
  const found: string[] = [join(REPO_ROOT, 'README.md')];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.md')) found.push(path);
    }
  };
  walk(DOCS_DIR);
  return found.map((path) => relative(REPO_ROOT, path));
}

/** All of the documentation as one text, to check that something is documented somewhere. */
export function allDocs(): string {
  return markdownFiles()
    .map((file) => readFileSync(join(REPO_ROOT, file), 'utf8'))
    .join('\n');
}
