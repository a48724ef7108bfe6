/**
 * `gatehouse cleanup`: delete expired rows now.
 */
import type { Command } from 'commander';
import { CliError, printJson, table, writeOut } from '../output.js';
import { settingsFor, listCommand, withStore, type StoreFlags } from '../shared.js';

interface CleanupFlags extends StoreFlags {
  batchSize?: string;
  json?: boolean;
}

/**
 * Deletes expired rows now (what the servers do every cleanup_interval_seconds) and prints the
 * count per table. On PostgreSQL it waits for a run of another instance to end first.
 */
async function cleanupCommand(flags: CleanupFlags): Promise<void> {
  const settings = await settingsFor(flags, false);
  let batchSize = settings.cleanupBatchSize;
  if (flags.batchSize !== undefined) {
    batchSize = /^\d+$/.test(flags.batchSize.trim()) ? Number(flags.batchSize.trim()) : Number.NaN;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
      throw new CliError(`--batch-size must be an integer from 1 to 100000, not ${JSON.stringify(flags.batchSize)}`);
    }
  }
  const { cleanupPolicy, totalDeleted } = await import('../../core/maintenance/cleanup-worker.js');
  const result = await withStore(flags, (store) =>
    store.cleanup.run(Date.now(), cleanupPolicy(settings, batchSize), { wait: true }),
  );
  if (result.status !== 'done') throw new CliError('another cleanup run holds the lock; try again');
  if (flags.json) return printJson(result.deleted);
  writeOut(
    table(
      ['table', 'deleted'],
      Object.entries(result.deleted).map(([name, count]) => [name, String(count)]),
    ),
  );
  writeOut(`${totalDeleted(result.deleted)} expired rows deleted.`);
}

export function registerCleanup(program: Command): void {
  const description =
    'delete expired codes, tokens, sessions, interactions, pushed authorization requests and old logout deliveries now, and print the counts per table';
  listCommand(program, 'cleanup', description, (command) =>
    command.option(
      '--batch-size <n>',
      'rows per DELETE statement (default: cleanup_batch_size of the config file, or 500)',
    ),
  ).action((flags: CleanupFlags) => cleanupCommand(flags));
}
