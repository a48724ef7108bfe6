/**
 * The benchmark measures the code users run: the compiled dist/ (`npm run build`, what
 * `gatehouse start` and the package run), not src/ compiled on the fly by tsx, whose esbuild
 * output differs (every function is wrapped to keep its name, class fields are lowered) and
 * cost a code flow several percent more CPU. This refuses a dist/ older than src/. The tests'
 * CLI runner (test/helpers/cli.ts) asks the same question to choose dist/ over tsx.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The src/ files whose dist/ counterpart is missing or older. */
export function staleCompiledFiles(): string[] {
  const src = join(REPO, 'src');
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const compiled = join(REPO, 'dist', relative(src, path)).replace(/\.ts$/, '.js');
        try {
          if (statSync(compiled).mtimeMs < statSync(path).mtimeMs) stale.push(relative(REPO, path));
        } catch {
          stale.push(relative(REPO, path));
        }
      }
    }
  };
  walk(src);
  return stale;
}

/** Throws when dist/ does not hold the current src/ (run `npm run build`). */
export function assertCompiledIsCurrent(): void {
  const stale = staleCompiledFiles();
  if (stale.length > 0)
    throw new Error(
      `dist/ is older than src/ (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', ...' : ''}): run \`npm run build\` first (npm run bench does)`,
    );
}
