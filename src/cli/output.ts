/**
 * The one output helper of the CLI: text lines, tables and `--json` output on stdout, warnings
 * on stderr, and the one-line failure (exit code 1) of an expected error, never a stack trace.
 */
import { ConfigError } from '../config/load-config.js';
import { AdminProblem, ClientMetadataError } from '../core/errors.js';

/** The exit code of a failed command (Commander sets its own for usage errors, --help and --version). */
export const EXIT_FAILURE = 1;

/** An expected failure of a command; printed as one line. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export const writeOut = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};
export const writeErr = (text: string): void => {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
};

/**
 * The one time format of the CLI, in text and JSON alike: ISO 8601 in UTC with milliseconds
 * (`2026-12-04T21:34:00.000Z`), from a millisecond timestamp; null stays null.
 */
export function formatTime(ms: number): string;
export function formatTime(ms: number | null): string | null;
export function formatTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function printJson(value: unknown): void {
  writeOut(JSON.stringify(value, null, 2));
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** How a listing prints its rows as text: `empty` when there are none, else a table. */
export interface ListLayout<V> {
  empty: string;
  headers: string[];
  row: (view: V) => string[];
}

/**
 * Prints a listing: with `--json` the views themselves as a JSON array (the same fields as the
 * table, never a secret or hash: the views leave them out), else the table of `layout`.
 */
export function printList<V>(views: V[], json: boolean | undefined, layout: ListLayout<V>): void {
  if (json) {
    printJson(views);
    return;
  }
  if (views.length === 0) {
    writeOut(layout.empty);
    return;
  }
  writeOut(table(layout.headers, views.map(layout.row)));
}

/** One line describing an error, for stderr. */
function errorLine(error: unknown): string {
  // The shared administration code (src/core/admin/) refuses with a sentence for the operator.
  if (error instanceof ConfigError || error instanceof CliError || error instanceof AdminProblem) return error.message;
  if (error instanceof ClientMetadataError) return `invalid client: ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  return `unexpected error: ${message.split('\n')[0] ?? message} (set GATEHOUSE_DEBUG=1 for details)`;
}

/** Reports a failed command: one line on stderr (and the stack with GATEHOUSE_DEBUG), exit code 1. */
export function reportFailure(error: unknown): void {
  writeErr(`gatehouse: ${errorLine(error)}`);
  if (process.env.GATEHOUSE_DEBUG && error instanceof Error && error.stack) writeErr(error.stack);
  process.exitCode = EXIT_FAILURE;
}
