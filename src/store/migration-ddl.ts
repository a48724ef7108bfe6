/**
 * The schema changes of the migrations (src/store/migration-history.ts), described once and
 * rendered into each dialect's DDL through Kysely's schema builder.
 *
 * Columns are written as in SQL, separated by commas:
 * `name type [primary key] [not null] [unique] [default <number or 'text'>]
 * [references table(column) on delete cascade] [check (<sql>)]`, where the type is
 * - `text` or `integer`: the same in both dialects;
 * - `time`: a millisecond timestamp, BIGINT on PostgreSQL (they exceed 32 bits), INTEGER on
 *   SQLite (64-bit already);
 * - `bool`: an INTEGER 0 or 1 with the check saying so, the one representation of a boolean both
 *   dialects share;
 * - `serial`: an increasing integer primary key, BIGSERIAL on PostgreSQL and INTEGER PRIMARY KEY
 *   AUTOINCREMENT on SQLite.
 * In a CREATE TABLE, `primary key (a, b)` is the table's composite primary key, named
 * `<table>_pk`.
 */
import { sql, type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely } from 'kysely';
import type { Dialect } from './schema.js';

/**
 * Column types that differ between dialects. Millisecond timestamps exceed 32 bits, so they
 * need BIGINT on PostgreSQL; SQLite's INTEGER is already 64-bit.
 */
function types(dialect: Dialect) {
  return {
    time: dialect === 'postgres' ? ('bigint' as const) : ('integer' as const),
  };
}

interface Column {
  name: string;
  type: 'text' | 'integer' | 'time' | 'bool' | 'serial';
  primaryKey: boolean;
  notNull: boolean;
  unique: boolean;
  defaultTo: string | number | undefined;
  /** `table.column`, deleted with the row it references. */
  references: string | undefined;
  check: string | undefined;
}

/** One modifier of a column, at the sticky regex's position. */
const MODIFIER =
  / (?:(primary key)|(not null)|(unique)|default (?:'([^']*)'|(\d+))|references (\w+)\((\w+)\) on delete cascade|check \((.*)\)$)/y;

function parseColumn(text: string): Column {
  const head = /^(\w+) (text|integer|time|bool|serial)/.exec(text);
  if (!head) throw new Error(`Unreadable column description: ${text}`);
  const column: Column = {
    name: head[1]!,
    type: head[2] as Column['type'],
    primaryKey: false,
    notNull: false,
    unique: false,
    defaultTo: undefined,
    references: undefined,
    check: undefined,
  };
  MODIFIER.lastIndex = head[0].length;
  while (MODIFIER.lastIndex < text.length) {
    const match = MODIFIER.exec(text);
    if (!match) throw new Error(`Unreadable column description: ${text}`);
    if (match[1]) column.primaryKey = true;
    if (match[2]) column.notNull = true;
    if (match[3]) column.unique = true;
    if (match[4] !== undefined) column.defaultTo = match[4];
    if (match[5] !== undefined) column.defaultTo = Number(match[5]);
    if (match[6]) column.references = `${match[6]}.${match[7]}`;
    if (match[8] !== undefined) column.check = match[8];
  }
  return column;
}

/** The comma-separated parts of `text` outside parentheses, white space folded. */
function splitList(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index <= text.length; index++) {
    const char = text[index];
    if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (index === text.length || (char === ',' && depth === 0)) {
      parts.push(text.slice(start, index).replace(/\s+/g, ' ').trim());
      start = index + 1;
    }
  }
  return parts.filter((part) => part !== '');
}

function defineColumn(builder: ColumnDefinitionBuilder, column: Column, dialect: Dialect): ColumnDefinitionBuilder {
  let c = builder;
  if (column.type === 'serial') c = dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();
  if (column.primaryKey) c = c.primaryKey();
  if (column.notNull) c = c.notNull();
  if (column.unique) c = c.unique();
  if (column.defaultTo !== undefined) c = c.defaultTo(column.defaultTo);
  if (column.references !== undefined) c = c.references(column.references).onDelete('cascade');
  if (column.type === 'bool') c = c.check(sql`${sql.ref(column.name)} in (0, 1)`);
  if (column.check !== undefined) c = c.check(sql.raw(column.check));
  return c;
}

function dataType(column: Column, dialect: Dialect): 'text' | 'integer' | 'bigint' | 'bigserial' {
  if (column.type === 'time') return types(dialect).time;
  if (column.type === 'serial') return dialect === 'postgres' ? 'bigserial' : 'integer';
  return column.type === 'text' ? 'text' : 'integer';
}

/** The schema changes a migration makes, rendered for `dialect` and run on `db`. */
export function schemaChanges<DB>(db: Kysely<DB>, dialect: Dialect) {
  return {
    /** For the changes only one dialect can make in place (SQLite cannot drop a referencing column). */
    dialect,

    /** CREATE TABLE with the described columns (and composite primary key). */
    async createTable(table: string, columns: string, options: { ifNotExists?: boolean } = {}): Promise<void> {
      let builder: CreateTableBuilder<string, string> = db.schema.createTable(table);
      if (options.ifNotExists) builder = builder.ifNotExists();
      for (const part of splitList(columns)) {
        const compositeKey = /^primary key \((.*)\)$/.exec(part);
        if (compositeKey) {
          builder = builder.addPrimaryKeyConstraint(`${table}_pk`, splitList(compositeKey[1]!) as never[]);
        } else {
          const column = parseColumn(part);
          builder = builder.addColumn(column.name, dataType(column, dialect), (c) => defineColumn(c, column, dialect));
        }
      }
      await builder.execute();
    },

    /** One ALTER TABLE ... ADD COLUMN per described column, in order. */
    async addColumns(table: string, columns: string): Promise<void> {
      for (const part of splitList(columns)) {
        const column = parseColumn(part);
        await db.schema
          .alterTable(table)
          .addColumn(column.name, dataType(column, dialect), (c) => defineColumn(c, column, dialect))
          .execute();
      }
    },

    /** A single-column index `<table>_<column>_idx` per listed column, table by table in order. */
    async createIndexes(columnsByTable: Record<string, string[]>): Promise<void> {
      for (const [table, columns] of Object.entries(columnsByTable)) {
        for (const column of columns)
          await db.schema.createIndex(`${table}_${column}_idx`).on(table).column(column).execute();
      }
    },

    /**
     * One index; `whereNull` / `whereNotNull`: a partial index of the rows where that column is
     * null / is not null.
     */
    async createIndex(
      name: string,
      table: string,
      columns: string[],
      options: { unique?: boolean; whereNull?: string; whereNotNull?: string } = {},
    ): Promise<void> {
      let builder = db.schema.createIndex(name).on(table).columns(columns);
      if (options.unique) builder = builder.unique();
      if (options.whereNull !== undefined) builder = builder.where(sql.ref(options.whereNull), 'is', null);
      if (options.whereNotNull !== undefined) builder = builder.where(sql.ref(options.whereNotNull), 'is not', null);
      await builder.execute();
    },
  };
}

export interface Migration {
  /** Unique and stable: it is what `gatehouse_migrations` records. */
  readonly name: string;
  /**
   * Applies the migration. It receives an untyped Kysely instance on purpose: a migration
   * describes the schema as it was when it was written, not the current typings.
   */
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

/** A migration that changes the schema through migration-ddl.ts (and data through `db`). */
export function migration(
  name: string,
  up: (schema: ReturnType<typeof schemaChanges<any>>, db: Kysely<any>) => Promise<void>,
): Migration {
  return { name, up: (db, dialect) => up(schemaChanges(db, dialect), db) };
}
