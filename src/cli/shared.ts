/**
 * What the commands share: the settings flags (from the settings schema), settings resolution,
 * opening the store, flag parsing and the graceful shutdown of the long-running commands.
 */
import { Help, Option, type Command } from 'commander';
import { AuditTrail } from '../core/audit/audit-trail.js';
import { EventBus } from '../core/events.js';
import { resolveSettings } from '../config/resolve-settings.js';
import {
  flagProperty,
  settingsWithFlags,
  type FlagScope,
  type SettingsFlags,
  type StoreFlags,
} from '../config/settings-schema.js';
import type { GatehouseSettings } from '../config/settings.js';
import type { Store } from '../store/store.js';
import { CliError, printList, writeErr, type ListLayout } from './output.js';

export type { StoreFlags } from '../config/settings-schema.js';

/** The flags of a listing command. */
export interface ListFlags extends StoreFlags {
  json?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * An option's help text without Commander's own `(default: …)`: every description that has a
 * default names it once, in words (`(default: …)`), and a repeatable option's empty list is no
 * default worth showing. Configured on the program, so every command inherits it.
 */
export function optionDescription(option: Option): string {
  const shown = Object.assign(Object.create(Object.getPrototypeOf(option) as object) as Option, option);
  shown.defaultValue = undefined;
  return new Help().optionDescription(shown);
}

/** An option that may be given several times: its value is the list of the values given (empty without it). */
export function repeatable(flags: string, description: string): Option {
  return new Option(flags, description).argParser(collect).default([]);
}

/**
 * Declares the subcommand `name` of `parent`, which works on the store: `declare` adds its own
 * arguments and options, and the store flags come after them, so that every command's help ends
 * with the same options.
 */
export function storeCommand(
  parent: Command,
  name: string,
  description: string,
  declare: (command: Command) => Command = (command) => command,
): Command {
  return addStoreOptions(declare(parent.command(name).description(description)));
}

/**
 * Registers the settings flags a command takes, as the settings schema declares them (each
 * setting's `flag` and `flagHelp`, src/config/settings-schema.ts): `start` takes every one,
 * the other commands that open the store those of `flagScope: 'store'`.
 */
export function addSettingOptions(command: Command, takes: FlagScope): Command {
  for (const meta of settingsWithFlags(takes)) command.option(meta.flag, meta.flagHelp);
  return command;
}

/** The store flags (config file, database): every command that opens the store takes them. */
export function addStoreOptions(command: Command): Command {
  return addSettingOptions(command, 'store');
}

/**
 * The settings of a command from its parsed options: the settings flags it takes (`takes`, as
 * registered by addSettingOptions) go to resolveSettings, its own options do not.
 */
export async function settingsFor(
  flags: SettingsFlags,
  requireSecret: boolean,
  takes: FlagScope = 'store',
): Promise<GatehouseSettings> {
  const settingsFlags: Record<string, unknown> = {};
  for (const { flag } of settingsWithFlags(takes)) {
    const property = flagProperty(flag);
    settingsFlags[property] = (flags as Record<string, unknown>)[property];
  }
  return resolveSettings({
    flags: settingsFlags,
    env: process.env,
    cwd: process.cwd(),
    log: (message) => writeErr(message),
    requireSecret,
  });
}

/**
 * Declares a listing command: storeCommand with `--json` (its rows as a JSON array on stdout, see
 * printList) before the store flags. Every listing command is declared with it, so none lacks `--json`;
 * so is `cleanup`, whose table of counts is a listing too.
 */
export function listCommand(
  parent: Command,
  name: string,
  description: string,
  declare: (command: Command) => Command = (command) => command,
): Command {
  return storeCommand(parent, name, description, (command) => declare(command).option('--json', 'print JSON'));
}

/** The action of a listing of one store table: its rows as views, printed by printList. */
export function listRows<V>(
  load: (store: Store) => Promise<V[]>,
  layout: ListLayout<V>,
): (flags: ListFlags) => Promise<void> {
  return async (flags) => printList(await withStore(flags, load), flags.json, layout);
}

/** Error codes of a database that cannot be reached or opened (Node networking, PostgreSQL, SQLite). */
const UNREACHABLE_DATABASE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  // PostgreSQL: invalid authorization, wrong password, no such database.
  '28000',
  '28P01',
  '3D000',
  'SQLITE_CANTOPEN',
  'SQLITE_NOTADB',
  'SQLITE_READONLY',
]);

/**
 * What `error` of opening or migrating the database at `databaseUrl` means to the person
 * running the command (as `demo` explains a port in use): undefined when it is not such an error.
 */
export function databaseProblem(
  error: unknown,
  databaseUrl: string,
  redact: (url: string) => string,
): CliError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const inner = (error as { errors?: Array<{ code?: unknown }> } | null)?.errors?.[0]?.code;
  const message = error instanceof Error ? error.message : String(error);
  const sqliteOpen = /Cannot open database|unable to open database/i.test(message);
  if (!UNREACHABLE_DATABASE_CODES.has(String(code)) && !UNREACHABLE_DATABASE_CODES.has(String(inner)) && !sqliteOpen)
    return undefined;
  return new CliError(
    `cannot open the database ${redact(databaseUrl)} (${message.split('\n')[0] || String(code ?? inner)}): check that it is running and reachable and that --database, GATEHOUSE_DATABASE_URL or database_url of the config file names it correctly (for SQLite, that the directory exists and is writable)`,
  );
}

/** Runs `fn`, which opens the database at `databaseUrl`, explaining a database that cannot be opened (databaseProblem). */
export async function explainingDatabase<T>(databaseUrl: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const { redactUrl } = await import('../store/open-store.js');
    throw databaseProblem(error, databaseUrl, redactUrl) ?? error;
  }
}

/**
 * Opens (and migrates, which is idempotent) the store named by the flags, runs `fn`, closes it.
 * The changes `fn` announces on `events` go to the audit trail, written before the store closes.
 */
export async function withStore<T>(flags: StoreFlags, fn: (store: Store, events: EventBus) => Promise<T>): Promise<T> {
  const settings = await settingsFor(flags, false);
  const { openStore } = await import('../store/open-store.js');
  const store = await explainingDatabase(settings.databaseUrl, () => openStore(settings.databaseUrl));
  const events = new EventBus();
  const audit = new AuditTrail(store, events);
  audit.onError = (error) =>
    writeErr(`Warning: could not write the audit trail: ${error instanceof Error ? error.message : String(error)}`);
  try {
    await explainingDatabase(settings.databaseUrl, () => store.migrate());
    return await fn(store, events);
  } finally {
    await audit.close();
    await store.close();
  }
}

/** Standard input as text (`what` names it in the prompt shown when it is a terminal). */
export async function readStdin(what: string): Promise<string> {
  if (process.stdin.isTTY) writeErr(`Enter ${what}, then press Enter and Ctrl-D:`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export { isUniqueViolation } from '../store/store-errors.js';

/**
 * SIGINT/SIGTERM close `running` gracefully and exit 0; a second signal exits at once with 1.
 */
export function closeOnSignals(running: { close(): Promise<void> }, what: string): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) {
      writeErr(`Received ${signal} again; exiting immediately.`);
      process.exit(1);
    }
    closing = true;
    writeErr(`Received ${signal}; ${what}...`);
    running.close().then(
      () => process.exit(process.exitCode ?? 0),
      (error: unknown) => {
        writeErr(`gatehouse: error while shutting down: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** `--limit N`: a positive integer (of at most six digits); undefined without the flag. */
export function limitFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const limit = /^\d{1,6}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(limit) || limit < 1)
    throw new CliError(`--limit must be a positive integer, not ${JSON.stringify(value)}`);
  return limit;
}

export function portFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new CliError(`${name} must be an integer from 1 to 65535, not ${JSON.stringify(value)}`);
  return port;
}
