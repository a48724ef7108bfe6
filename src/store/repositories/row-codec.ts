/**
 * The mapping between records (src/store/records.ts) and rows (src/store/schema.ts), declared
 * once per table and used in both directions.
 *
 * A record field `fooBar` is stored in the column `foo_bar`. Most fields are stored as they are;
 * the others name a FieldCodec for the representation the tables share: JSON text for lists and
 * objects, 0/1 integers for booleans. Decoders fail loudly on corrupt data rather than passing it
 * on.
 *
 * The hot path (code insert and redemption, refresh rotation, access token insert) maps a row
 * per statement, so the work per row is one plain loop over the arrays (fields, columns, codecs)
 * built once per table; an INSERT's SQL is written once per table too (see RowCodec.insert).
 */
import type { Selectable } from 'kysely';
import type { Actor } from '../records.js';
import type { Database, IntBool } from '../schema.js';
import type { Statement } from '../executor.js';

/** How one field is represented in its column, both ways. */
export interface FieldCodec<Value, Column> {
  encode(value: Value): Column;
  /** `label` is `table.column`, for the error about a corrupt value; `row` the whole row read. */
  decode(column: Column, label: string, row: Readonly<Record<string, unknown>>): Value;
}

/** A JSON array of strings. */
export const stringArray: FieldCodec<string[], string> = {
  encode: (value) => JSON.stringify(value),
  decode: (text, label) => {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      throw new Error(`Corrupt ${label} value: expected a JSON array of strings`);
    }
    return value;
  },
};

/** A JSON object (user claims, a stored authorization request). */
export const jsonObject: FieldCodec<Record<string, unknown>, string> = {
  encode: (value) => JSON.stringify(value),
  decode: (text, label) => {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error(`Corrupt ${label} value: expected a JSON object`);
    }
    return value as Record<string, unknown>;
  },
};

/** RFC 8693 §4.1 `act` as JSON, absent as NULL (and NULL read back as an absent field). */
export const optionalActor: FieldCodec<Actor | undefined, string | null> = {
  encode: (value) => (value === undefined ? null : JSON.stringify(value)),
  decode: (text, label) => {
    if (text === null) return undefined;
    const value: unknown = JSON.parse(text);
    if (!isActor(value)) throw new Error(`Corrupt ${label} value: expected an actor ({"sub": ..., "act"?: ...})`);
    return value;
  },
};

function isActor(value: unknown): value is Actor {
  if (typeof value !== 'object' || value === null) return false;
  const { sub, act } = value as Record<string, unknown>;
  return typeof sub === 'string' && (act === undefined || isActor(act));
}

/** An optional string, absent as NULL (and NULL read back as an absent field). */
export const optionalText: FieldCodec<string | undefined, string | null> = {
  encode: (value) => value ?? null,
  decode: (value) => value ?? undefined,
};

/** An optional millisecond timestamp, absent as NULL (and NULL read back as an absent field). */
export const optionalTime: FieldCodec<number | undefined, number | null> = {
  encode: (value) => value ?? null,
  decode: (value) => (value === null ? undefined : Number(value)),
};

/** A boolean as 0/1. */
export const intBool: FieldCodec<boolean, IntBool> = {
  encode: (value) => (value ? 1 : 0),
  decode: (value) => value === 1,
};

/** An optional boolean as 0/1, absent as NULL (and NULL read back as an absent field). */
export const optionalIntBool: FieldCodec<boolean | undefined, IntBool | null> = {
  encode: (value) => (value === undefined ? null : value ? 1 : 0),
  decode: (value) => (value === null ? undefined : value === 1),
};

/** A record field's column: `fooBar` is stored in `foo_bar`. */
type ColumnName<Field extends string> = Field extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${ColumnName<Tail>}`
  : Field;

/**
 * How each field of R is stored: `true` for as it is (allowed where the field's type fits the
 * column; read back unchecked, as the column only ever holds what was written), or a FieldCodec.
 */
export type RowSpec<R, Row> = {
  [Field in keyof R & string]-?: ColumnName<Field> extends keyof Row
    ?
        | FieldCodec<R[Field], Stored<Row, ColumnName<Field>>>
        | ([R[Field]] extends [Stored<Row, ColumnName<Field>>] ? true : never)
    : never;
};

/** What the column `C` of Row holds. */
type Stored<Row, C> = Selectable<Row>[C & keyof Selectable<Row>];

/** A compile-time error naming the columns of Row that no field of R fills. */
type EveryColumn<R, Row> = [Exclude<keyof Row, ColumnName<keyof R & string>>] extends [never]
  ? unknown
  : { missingColumns: Exclude<keyof Row, ColumnName<keyof R & string>> };

export interface RowCodec<R, T extends keyof Database> {
  readonly table: T;
  /**
   * The quoted column list, complete: a prepared statement selects the columns it names, so a
   * later migration adding a column leaves its result type unchanged (PostgreSQL refuses a
   * prepared `select *` whose columns changed).
   */
  readonly columns: string;
  /** The column names, in field order. */
  readonly columnNames: ReadonlyArray<keyof Database[T] & string>;
  toRow(record: R): Database[T];
  fromRow(row: Selectable<Database[T]>): R;
  /** `select <every column> from <table> where <condition>`: a read by key written once. */
  selectWhere(condition: string): string;
  /** The INSERT of one record: SQL written once, the values in column order (undefined as NULL). */
  insert(record: R): Statement;
}

/** `fooBar` as `foo_bar`. */
export function columnName(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * The codec of `table`, whose rows hold the records R, stored as `spec` says field by field.
 * `Left`: columns no field of R fills, written and read by other statements of the repository
 * (they are left out of the INSERT, so they default to NULL, and out of every read).
 */
export function rowCodec<R, T extends keyof Database, Left extends keyof Database[T] = never>(
  table: T,
  spec: RowSpec<R, Database[T]> & EveryColumn<R, Omit<Database[T], Left>>,
): RowCodec<R, T> {
  const fields = Object.keys(spec);
  const columns = fields.map(columnName);
  const codecs = fields.map((field) => {
    const entry = (spec as Record<string, true | FieldCodec<unknown, unknown>>)[field];
    return entry === true ? undefined : entry;
  });
  const labels = columns.map((column) => `${table}.${column}`);
  const count = fields.length;
  const quoted = columns.map((column) => `"${column}"`).join(', ');
  const insertText = `insert into "${table}" (${quoted}) values (${columns.map(() => '?').join(', ')})`;
  return {
    table,
    columns: quoted,
    columnNames: columns as Array<keyof Database[T] & string>,
    toRow: (record) => {
      const row: Record<string, unknown> = {};
      for (let index = 0; index < count; index++) {
        const value = (record as Record<string, unknown>)[fields[index]!];
        const codec = codecs[index];
        row[columns[index]!] = codec === undefined ? value : codec.encode(value);
      }
      return row as unknown as Database[T];
    },
    fromRow: (row) => {
      const record: Record<string, unknown> = {};
      for (let index = 0; index < count; index++) {
        const value = (row as Record<string, unknown>)[columns[index]!];
        const codec = codecs[index];
        if (codec === undefined) {
          record[fields[index]!] = value;
        } else {
          const decoded = codec.decode(value, labels[index]!, row as Record<string, unknown>);
          if (decoded !== undefined) record[fields[index]!] = decoded;
        }
      }
      return record as R;
    },
    selectWhere: (condition) => `select ${quoted} from "${table}" where ${condition}`,
    insert: (record) => {
      const values: unknown[] = new Array(count);
      for (let index = 0; index < count; index++) {
        const value = (record as Record<string, unknown>)[fields[index]!];
        const codec = codecs[index];
        const stored = codec === undefined ? value : codec.encode(value);
        // A driver refuses undefined: a field left undefined is NULL.
        values[index] = stored === undefined ? null : stored;
      }
      return { text: insertText, values };
    },
  };
}

/**
 * The fields an authorization code carries from its grant's sign-in, in their column order: the
 * resources (RFC 8707), the authentication time and the lifetime. (A refresh token carried them
 * too until migration 0028 moved its family's resources and authentication time to the grant.)
 */
export const GRANT_TERMS = { resources: stringArray, authTime: true, createdAt: true, expiresAt: true } as const;
