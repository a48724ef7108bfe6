/**
 * The building blocks of the settings schema (src/config/settings-schema.ts composes the groups
 * of this folder): a setting is a TypeBox node that carries its metadata under `x-gatehouse`
 * and, for the compiler only, brands naming its settings path and its CLI flag, from which
 * settings.ts checks GatehouseSettings and setting-flags.ts derives the flags types.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * Which commands take a setting's flag: `start` only (the default), or `store`: every command
 * that opens the store (src/cli/shared.ts), `start` included.
 */
export type FlagScope = 'start' | 'store';

/** The metadata of a setting besides its flag. */
interface SettingFields<V, P extends string> {
  /** Where it lands in GatehouseSettings (camelCase, dotted for nested settings). */
  setting: P;
  /** The settings reference's line (the `description` of the JSON Schema node). */
  doc: string;
  default?: V;
  /** The settings reference's default column when the default is not a plain value. */
  defaultDoc?: string;
  /** Environment variable that sets it (over the config file). */
  env?: string;
  /** The settings reference's values column when JSON Schema's type and range do not say it well. */
  valuesDoc?: string;
  /** Shown after integer range errors, e.g. ' (seconds)'. */
  unit?: string;
  /** A rule JSON Schema cannot say; returns the problem, or undefined. `config` is the file so far. */
  check?: (value: V, config: Record<string, unknown>) => string | undefined;
  /** Parses the text of a flag or variable; may throw ConfigError naming `source`. */
  parse?: (text: string, source: string) => V | undefined;
  /** resolveSettings computes it itself (it depends on other settings or reads files). */
  special?: true;
}

/**
 * A setting's CLI flag (over the environment), registered by src/cli/shared.ts on the commands
 * of its scope: commander's syntax (`-p, --port <port>`; without `<value>` a switch), its help
 * line, and which commands take it. A setting has a flag and its help, or neither.
 */
type FlagFields<F extends string, S extends FlagScope> =
  | { flag?: undefined; flagHelp?: undefined; flagScope?: undefined }
  | { flag: F; flagHelp: string; flagScope?: S };

/** The metadata a setting carries on its schema node, besides JSON Schema's `default` and `description`. */
export type SettingMeta<
  V = unknown,
  P extends string = string,
  F extends string = string,
  S extends FlagScope = FlagScope,
> = SettingFields<V, P> & FlagFields<F, S>;

/** What the compiler knows of a setting's flag (`never` without one) and of the value it sets. */
export interface FlagBrand<F extends string = string, S extends FlagScope = FlagScope, V = unknown> {
  flag: F;
  scope: S;
  value: V;
}

/** The compile-time brands of a setting: its settings path and its flag. */
export interface SettingBrands<P extends string, F extends string, S extends FlagScope, V> {
  readonly '~setting': P;
  readonly '~flag': FlagBrand<F, S, V>;
}

/** The brands (`~setting` or `~flag`) of every setting of a schema node, as a union. */
export type SchemaBrands<Node, K extends keyof SettingBrands<string, string, FlagScope, unknown>> = Node extends {
  readonly [Key in K]: infer B;
}
  ? B
  : Node extends { properties: infer Props }
    ? { [Name in keyof Props]: SchemaBrands<Props[Name], K> }[keyof Props]
    : never;

export const META = 'x-gatehouse' as const;

/** The values of an enum setting (Type.Enum: anyOf of const), or undefined. */
export function enumValues(schema: TSchema): string[] | undefined {
  const options = schema.anyOf as TSchema[] | undefined;
  return options?.every((option) => typeof option.const === 'string')
    ? options.map((option) => option.const as string)
    : undefined;
}

export type SettingNode = TSchema & { [META]: SettingMeta; description: string };

/** A setting: a schema node carrying its metadata; the path and flag literals are kept for the compile-time checks. */
export function setting<
  T extends TSchema,
  const P extends string,
  const F extends string = never,
  const S extends FlagScope = 'start',
>(schema: T, meta: SettingMeta<Static<T>, P, F, S>) {
  const node = { ...schema, description: meta.doc, [META]: meta } as unknown as T & SettingBrands<P, F, S, Static<T>>;
  if (meta.default !== undefined) (node as TSchema).default = meta.default;
  return Type.Optional(node);
}

/** A setting that is no config file key (the secret, the config file itself), with the same brands. */
export function otherSetting<
  const P extends string,
  const F extends string = never,
  const S extends FlagScope = 'start',
>(meta: SettingMeta<unknown, P, F, S>) {
  return meta as SettingMeta<unknown, P, F, S> & SettingBrands<P, F, S, unknown>;
}

/** A list whose items are validated by a validator of load-config.ts (`x-list`). */
export function fixtureList<T>(list: 'clients' | 'users' | 'resources') {
  return Type.Optional(Type.Unsafe<T[]>({ type: 'array', items: { type: 'object' }, 'x-list': list }));
}

export const int = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum });
export const text = () => Type.String({ minLength: 1 });
export const oneOf = <const T extends readonly string[]>(values: T) =>
  Type.Enum(Object.fromEntries(values.map((value) => [value, value])) as { [K in T[number]]: K });

/** What an integer or boolean setting may carry besides its path, default and documentation line. */
type PlainExtras = Pick<SettingFields<never, string>, 'unit' | 'defaultDoc' | 'special'>;

/** An integer setting from `min` to `max` with no flag or variable; `unit` is shown after range errors. */
export function intSetting<const P extends string>(
  path: P,
  [min, max]: readonly [number, number],
  defaultValue: number,
  doc: string,
  extras: PlainExtras = {},
) {
  return setting(int(min, max), { setting: path, default: defaultValue, doc, ...extras });
}

/** intSetting with a fixed unit (extras.unit still overrides it). */
const intSettingIn =
  (unit: string) =>
  <const P extends string>(
    path: P,
    range: readonly [number, number],
    defaultValue: number,
    doc: string,
    extras: PlainExtras = {},
  ) =>
    intSetting(path, range, defaultValue, doc, { unit, ...extras });

/** An integer setting in seconds (intSetting). */
export const secondsSetting = intSettingIn(' (seconds)');
/** An integer setting in milliseconds (intSetting). */
export const msSetting = intSettingIn(' (milliseconds)');

/** A boolean setting with no flag or variable. */
export function boolSetting<const P extends string>(
  path: P,
  defaultValue: boolean,
  doc: string,
  extras: PlainExtras = {},
) {
  return setting(Type.Boolean(), { setting: path, default: defaultValue, doc, ...extras });
}
