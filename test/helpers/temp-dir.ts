/**
 * A temporary directory for the tests of a file or suite: created before them (named after
 * `prefix`), deleted with everything in it after them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

/** Creates the directory before the tests of the enclosing suite (or file) and hands it to `created`. */
export function useTempDir(prefix: string, created: (dir: string) => void): void {
  let dir: string | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    created(dir);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
}
