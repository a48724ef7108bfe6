/**
 * The statement shapes the repositories share, each over a table's RowCodec: the read of one
 * row by SQL written once, reads of whole rows built with Kysely, deletes by one column, and the
 * upsert that replaces a row's other columns. Each builds exactly the statement a repository
 * would build by hand; the conditional statements that decide races stay in the repositories.
 */
import type { InsertQueryBuilder, InsertResult, Kysely, Selectable, SelectQueryBuilder } from 'kysely';
import type { Database } from '../schema.js';
import type { Executor } from '../executor.js';
import type { RowCodec } from './row-codec.js';

type Column<T extends keyof Database> = keyof Database[T] & string;

/**
 * The database as Kysely sees it when the table is a type parameter: Kysely's typings cannot
 * follow a generic table name, so the helpers build over this and type their results from T.
 */
type AnyTables = Kysely<Record<string, Record<string, unknown>>>;

/** `select * from <table>`, to be narrowed (where, order by, limit) by the caller. */
export type SelectAll<T extends keyof Database> = SelectQueryBuilder<Database, T, Selectable<Database[T]>>;

function selectAll<T extends keyof Database>(db: Kysely<Database>, table: T): SelectAll<T> {
  return (db as unknown as AnyTables).selectFrom(table as string).selectAll() as unknown as SelectAll<T>;
}

/** The record of the first row that SQL written once returns (a read by key, an UPDATE ... RETURNING). */
export async function firstRecord<R, T extends keyof Database>(
  ex: Executor,
  codec: RowCodec<R, T>,
  text: string,
  parameters: readonly unknown[],
): Promise<R | undefined> {
  const row = await ex.first<Selectable<Database[T]>>(text, parameters);
  return row && codec.fromRow(row);
}

/** The record of the first row `select *` narrowed by `narrow` finds, if any. */
export async function findRecord<R, T extends keyof Database>(
  ex: Executor,
  codec: RowCodec<R, T>,
  narrow: (query: SelectAll<T>) => SelectAll<T>,
): Promise<R | undefined> {
  const row = await narrow(selectAll(ex.db, codec.table)).executeTakeFirst();
  return row && codec.fromRow(row);
}

/** The records of the rows `select *` narrowed by `narrow` finds. */
export async function listRecords<R, T extends keyof Database>(
  ex: Executor,
  codec: RowCodec<R, T>,
  narrow: (query: SelectAll<T>) => SelectAll<T>,
): Promise<R[]> {
  const rows = (await narrow(selectAll(ex.db, codec.table)).execute()) as unknown as Array<Selectable<Database[T]>>;
  return rows.map(codec.fromRow);
}

/** Deletes the row whose `column` is `value`; true when there was one. */
export async function deleteRow<T extends keyof Database>(
  db: Kysely<Database>,
  table: T,
  column: Column<T>,
  value: string,
): Promise<boolean> {
  const result = await (db as unknown as AnyTables)
    .deleteFrom(table as string)
    .where(column as string, '=', value)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * INSERT of `record` or, when a row with its `key` exists, an UPDATE of that row's other columns
 * (but `keep`) to the new values, in one statement.
 */
export function upsertRecord<R, T extends keyof Database>(
  db: Kysely<Database>,
  codec: RowCodec<R, T>,
  record: R,
  key: Column<T>,
  keep: ReadonlyArray<Column<T>> = [],
): InsertQueryBuilder<Database, T, InsertResult> {
  const replaced = codec.columnNames.filter((column) => column !== key && !keep.includes(column));
  return (db as unknown as AnyTables)
    .insertInto(codec.table as string)
    .values(codec.toRow(record) as unknown as Record<string, unknown>)
    .onConflict((oc) =>
      oc
        .column(key)
        .doUpdateSet((eb) => Object.fromEntries(replaced.map((column) => [column, eb.ref(`excluded.${column}`)]))),
    ) as unknown as InsertQueryBuilder<Database, T, InsertResult>;
}

/**
 * `update <table> set revoked_at = at where <column> = value and revoked_at is null`: the first
 * revocation time stays, and the count of rows revoked tells a change from a no-op.
 */
export async function revokeRows<T extends 'grants' | 'access_tokens'>(
  db: Kysely<Database>,
  table: T,
  column: Column<T>,
  value: string,
  at: number,
): Promise<bigint> {
  const result = await (db as unknown as AnyTables)
    .updateTable(table as string)
    .set({ revoked_at: at })
    .where(column as string, '=', value)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows;
}
