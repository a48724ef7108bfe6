/**
 * The one description of every setting: the config file schema (TypeBox, i.e. JSON Schema), and
 * on each setting its settings path, default, environment variable, CLI flag and documentation line.
 * The settings are declared by group in ./schema/ (server, tokens, outbound, operations,
 * limits), from the building blocks of ./schema/setting-node.ts; this file composes them.
 * Everything else is derived from it:
 *
 * - the ConfigFile type (Static<typeof CONFIG_SCHEMA>) and the config file validation
 *   (src/config/load-config.ts walks this schema; an unknown key names its path and YAML line),
 * - DEFAULT_SETTINGS (src/config/settings.ts), checked against GatehouseSettings at compile time,
 * - the flag > environment > config file > default resolution (src/config/resolve-settings.ts),
 * - the CLI flags: the options of `gatehouse start` and of every command that opens the store
 *   (src/cli/shared.ts registers each setting's `flag` on the commands of its `flagScope`), and
 *   their types, SettingsFlags and StoreFlags (mapped over the flag brands of the settings),
 * - the settings table of docs/reference/settings.md (scripts/settings-table.ts; test/config/readme-config.test.ts fails
 *   when the page and this schema disagree).
 *
 * Why TypeBox rather than ajv + hand-written JSON Schema: the schema is at the same time the
 * TypeScript type (Static<>), so a setting cannot be declared in one and forgotten in the other;
 * it is plain JSON Schema, the language Fastify speaks. The validation itself walks the schema
 * here rather than through a generic validator, so that every error keeps the exact wording
 * and key path operators (and the tests) rely on.
 *
 * Adding a setting: one entry in the group of ./schema/ it belongs to (config key, `setting`
 * path, range, default, env, flag with its help, doc), and its field in GatehouseSettings
 * (settings.ts); the compiler fails until both exist.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ClientFixture, ResourceFixture, UserFixture } from './fixture-types.js';
import { BRANDING_SETTINGS } from './schema/branding-settings.js';
import { INSPECTOR_SETTINGS } from './schema/inspector-settings.js';
import { ADMIN_SETTINGS } from './schema/admin-settings.js';
import { LIMIT_SETTINGS } from './schema/limit-settings.js';
import { OPERATIONS_SETTINGS } from './schema/operations-settings.js';
import { OUTBOUND_SETTINGS } from './schema/outbound-settings.js';
import { REGISTRATION_SETTINGS } from './schema/registration-settings.js';
import { SENDER_CONSTRAINT_SETTINGS } from './schema/sender-constraint-settings.js';
import { EXPOSURE_SETTINGS, SERVER_SETTINGS } from './schema/server-settings.js';
import type { FlagsOf } from './schema/setting-flags.js';
import {
  META,
  fixtureList,
  otherSetting,
  type FlagScope,
  type SchemaBrands,
  type SettingMeta,
  type SettingNode,
} from './schema/setting-node.js';
import { TOKEN_SETTINGS } from './schema/token-settings.js';

export { ConfigError } from './schema/config-error.js';
export { metricsTokenProblem } from './schema/operations-settings.js';
export { EXPLAIN_ERRORS_MODES, trustProxyProblem } from './schema/server-settings.js';
export { flagName, flagProperty } from './schema/setting-flags.js';
export { META, enumValues, type FlagScope, type SettingMeta, type SettingNode } from './schema/setting-node.js';
export { ID_TOKEN_DEFAULT_ALGS, SIGNING_ALGS } from './schema/token-settings.js';
export { REGISTRATION_MODES } from './schema/registration-settings.js';

/** The config file: every key, in the order errors list them. */
export const CONFIG_SCHEMA = Type.Object(
  {
    ...SERVER_SETTINGS,
    ...TOKEN_SETTINGS,
    ...OUTBOUND_SETTINGS,
    ...SENDER_CONSTRAINT_SETTINGS,
    ...OPERATIONS_SETTINGS,
    ...EXPOSURE_SETTINGS,
    ...LIMIT_SETTINGS,
    ...REGISTRATION_SETTINGS,
    ...BRANDING_SETTINGS,
    ...INSPECTOR_SETTINGS,
    ...ADMIN_SETTINGS,
    resources: fixtureList<ResourceFixture>('resources'),
    clients: fixtureList<ClientFixture>('clients'),
    users: fixtureList<UserFixture>('users'),
  },
  { additionalProperties: false },
);

/** A validated config file (snake_case keys, as written). */
export type ConfigFile = Static<typeof CONFIG_SCHEMA>;

export const SECRET_SETTING = otherSetting({
  setting: 'secret',
  doc: 'secret',
  env: 'GATEHOUSE_SECRET',
  special: true,
  defaultDoc: 'a generated `./.gatehouse-secret` (development only)',
});
export const CONFIG_FILE_SETTING = otherSetting({
  setting: '',
  doc: 'config file',
  env: 'GATEHOUSE_CONFIG',
  special: true,
  defaultDoc: 'none',
  flag: '-c, --config <file>',
  flagScope: 'store',
  flagHelp: 'config file (YAML or JSON; default: $GATEHOUSE_CONFIG)',
});
/** Settings that are no config file key: the secret, and the config file itself. */
export const OTHER_SETTINGS = [SECRET_SETTING, CONFIG_FILE_SETTING] as const;

/** One setting of the schema, with its config file key path (`limits.login_ip.free_attempts`). */
export interface SettingEntry {
  key: string;
  schema: SettingNode;
  meta: SettingMeta;
}

function collect(schema: TSchema, prefix: string, into: SettingEntry[]): SettingEntry[] {
  for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    if (child[META]) into.push({ key, schema: child as SettingNode, meta: child[META] as SettingMeta });
    else if (child.type === 'object' && child.properties) collect(child, key, into);
  }
  return into;
}

/** Every setting of the config file, in schema order. */
export const SETTINGS: readonly SettingEntry[] = collect(CONFIG_SCHEMA, '', []);

/** A setting with a CLI flag. */
export type FlaggedSetting = SettingMeta & { flag: string; flagHelp: string };

const FLAGGED: readonly FlaggedSetting[] = [...OTHER_SETTINGS, ...SETTINGS.map(({ meta }) => meta)].filter(
  (meta): meta is FlaggedSetting => meta.flag !== undefined,
);

/**
 * The settings whose flags a command takes, in the order of its help: `start` takes every flag
 * (its own first, then the store flags), any other command that opens the store the settings
 * of `flagScope: 'store'` (config file first).
 */
export function settingsWithFlags(command: FlagScope): readonly FlaggedSetting[] {
  const store = FLAGGED.filter((meta) => meta.flagScope === 'store');
  return command === 'store' ? store : [...FLAGGED.filter((meta) => meta.flagScope !== 'store'), ...store];
}

// ---- Compile-time: the settings paths and the flags, from the brands of the settings. ----

/** The `setting` paths the schema declares (checked against GatehouseSettings by settings.ts). */
export type SchemaSettingPath = SchemaBrands<typeof CONFIG_SCHEMA, '~setting'> | (typeof SECRET_SETTING)['setting'];

type FlagBrands = SchemaBrands<typeof CONFIG_SCHEMA, '~flag'> | (typeof OTHER_SETTINGS)[number]['~flag'];
/** The parsed settings flags of `gatehouse start` (and of resolveSettings): every flag of the schema. */
export type SettingsFlags = FlagsOf<FlagBrands>;
/** The parsed settings flags of every command that opens the store. */
export type StoreFlags = FlagsOf<Extract<FlagBrands, { scope: 'store' }>>;
