/**
 * Prints the settings table from the settings schema (src/config/settings-schema.ts).
 * `node --import tsx scripts/settings-table.ts` prints it; with `--write` it replaces the table
 * between the markers in docs/reference/settings.md.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { SETTINGS_TABLE_END, SETTINGS_TABLE_START, settingsTable } from '../src/config/settings-table.js';

const table = settingsTable();
if (process.argv.includes('--write')) {
  const path = new URL('../docs/reference/settings.md', import.meta.url);
  const readme = await readFile(path, 'utf8');
  const start = readme.indexOf(SETTINGS_TABLE_START);
  const end = readme.indexOf(SETTINGS_TABLE_END);
  if (start < 0 || end < start) throw new Error('docs/reference/settings.md has no settings table markers');
  await writeFile(path, readme.slice(0, start) + table + readme.slice(end + SETTINGS_TABLE_END.length));
} else {
  process.stdout.write(`${table}\n`);
}
