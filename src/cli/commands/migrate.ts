/**
 * `gatehouse migrate`: create or upgrade the database schema.
 */
import type { Command } from 'commander';
import { writeOut } from '../output.js';
import { explainingDatabase, settingsFor, storeCommand, type StoreFlags } from '../shared.js';

async function migrateCommand(flags: StoreFlags): Promise<void> {
  const settings = await settingsFor(flags, false);
  const { openStore, redactUrl } = await import('../../store/open-store.js');
  const store = await explainingDatabase(settings.databaseUrl, () => openStore(settings.databaseUrl));
  try {
    await explainingDatabase(settings.databaseUrl, () => store.migrate());
  } finally {
    await store.close();
  }
  writeOut(`Database schema is up to date (${redactUrl(settings.databaseUrl)}).`);
}

export function registerMigrate(program: Command): void {
  storeCommand(program, 'migrate', 'create or upgrade the database schema').action((flags: StoreFlags) =>
    migrateCommand(flags),
  );
}
