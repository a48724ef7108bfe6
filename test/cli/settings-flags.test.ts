/**
 * The settings flags of the CLI are generated from the settings schema
 * (src/config/settings-schema.ts): every setting that declares a flag is accepted by
 * `gatehouse start`, the store flags by every command that opens the store, each parsed into the
 * property resolveSettings reads. Parse level: the program of src/cli/main.ts with its actions
 * replaced, so no server starts and no store opens.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TSchema } from '@sinclair/typebox';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { resolveSettings } from '../../src/config/resolve-settings.js';
import {
  OTHER_SETTINGS,
  SETTINGS,
  enumValues,
  flagName,
  flagProperty,
  type SettingMeta,
} from '../../src/config/settings-schema.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-flags-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every setting of the schema that declares a flag, config file key or not. */
const FLAGGED = [...OTHER_SETTINGS, ...SETTINGS.map(({ meta }) => meta)].filter(
  (meta): meta is SettingMeta & { flag: string } => meta.flag !== undefined,
);

/** Whether a flag takes a value (`--port <port>`) rather than being a switch. */
const takesValue = (flag: string): boolean => /<[^>]+>/.test(flag);

/** The subcommand at `path` (`['clients', 'create']`) of a program. */
function commandAt(program: Command, path: string[]): Command {
  let command = program;
  for (const name of path) {
    const next = command.commands.find((candidate) => candidate.name() === name);
    assert.ok(next, `gatehouse ${path.join(' ')} exists`);
    command = next;
  }
  return command;
}

/** The options `gatehouse <path> <args>` hands to its action (which is replaced, so nothing runs). */
async function parsedOptions(path: string[], args: string[]): Promise<Record<string, unknown>> {
  const program = buildProgram();
  const command = commandAt(program, path);
  let options: Record<string, unknown> | undefined;
  command.action((...actionArgs: unknown[]) => {
    options = (actionArgs.at(-1) as Command).opts();
  });
  await program.parseAsync(['node', 'gatehouse', ...path, ...args]);
  assert.ok(options, `gatehouse ${path.join(' ')} ran its action`);
  return options;
}

/** Every command without subcommands that takes `--config`, i.e. opens the store. */
function storeCommands(command: Command, path: string[] = []): string[][] {
  if (command.commands.length > 0) return command.commands.flatMap((sub) => storeCommands(sub, [...path, sub.name()]));
  return command.options.some((option) => option.long === '--config') ? [path] : [];
}

/** A valid value of a setting's schema other than the usual default: its text on the command line and the value it resolves to. */
function sample(schema: TSchema): { text: string; value: unknown } {
  const values = enumValues(schema);
  if (values !== undefined) return { text: values.at(-1)!, value: values.at(-1) };
  if (Array.isArray(schema.anyOf)) return sample(schema.anyOf[0] as TSchema);
  if (schema.type === 'integer') return { text: String(schema.maximum), value: schema.maximum };
  if (schema.type === 'boolean') return { text: 'true', value: true };
  if (schema.type === 'string') return { text: 'flag-sample', value: 'flag-sample' };
  throw new Error(`no sample for the schema ${JSON.stringify(schema)}`);
}

/** The value at a dotted settings path (`limits.loginIp.lockAfter`). */
function valueAt(settings: object, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], settings);
}

describe('gatehouse CLI: settings flags from the settings schema', () => {
  test('every setting of the schema that declares a flag is accepted by gatehouse start, into the property resolveSettings reads', async () => {
    assert.ok(FLAGGED.length >= 10, `the schema declares the flags of start, found ${FLAGGED.length}`);
    for (const { flag } of FLAGGED) {
      const value = takesValue(flag) ? 'flag-value' : true;
      const args = takesValue(flag) ? [flagName(flag), 'flag-value'] : [flagName(flag)];
      const options = await parsedOptions(['start'], args);
      assert.equal(options[flagProperty(flag)], value, `gatehouse start ${args.join(' ')}`);
      const short = /^(-[a-zA-Z]),/.exec(flag)?.[1];
      if (short !== undefined) {
        const shortArgs = takesValue(flag) ? [short, 'flag-value'] : [short];
        assert.equal(
          (await parsedOptions(['start'], shortArgs))[flagProperty(flag)],
          value,
          `gatehouse start ${shortArgs.join(' ')}`,
        );
      }
    }
  });

  test('gatehouse start keeps every flag it had before its flags were generated from the schema', () => {
    const flags = commandAt(buildProgram(), ['start']).options.map((option) => option.flags);
    const earlier = [
      '--issuer <url>',
      '-p, --port <port>',
      '--host <host>',
      '--tls-cert <file>',
      '--tls-key <file>',
      '--trust-proxy <proxies>',
      '--allow-http-issuer',
      '--explain-errors <mode>',
      '-c, --config <file>',
      '--database <url>',
    ];
    for (const flag of earlier)
      assert.ok(flags.includes(flag), `gatehouse start takes ${flag}; it has ${flags.join(', ')}`);
  });

  test('every command that opens the store takes every store flag of the schema', async () => {
    const commands = storeCommands(buildProgram());
    assert.ok(commands.length >= 10, `the store commands, found ${commands.map((path) => path.join(' ')).join(', ')}`);
    const storeFlags = FLAGGED.filter((meta) => meta.flagScope === 'store');
    assert.ok(storeFlags.length >= 2, 'the config file and the database are store flags');
    for (const path of commands) {
      const taken = commandAt(buildProgram(), path).options.map((option) => option.flags);
      for (const { flag } of storeFlags) assert.ok(taken.includes(flag), `gatehouse ${path.join(' ')} takes ${flag}`);
    }
    for (const { flag } of storeFlags) {
      assert.equal(
        (await parsedOptions(['migrate'], [flagName(flag), 'flag-value']))[flagProperty(flag)],
        'flag-value',
        `gatehouse migrate ${flagName(flag)}`,
      );
    }
  });

  test('a flag parsed by gatehouse start sets its setting through resolveSettings, over the environment and the default', async () => {
    let checked = 0;
    for (const { key, meta, schema } of SETTINGS) {
      if (meta.flag === undefined || meta.special) continue;
      const { text, value } = sample(schema);
      assert.notDeepEqual(value, meta.default, `${key}: the sample differs from the default`);
      const options = await parsedOptions(
        ['start'],
        takesValue(meta.flag) ? [flagName(meta.flag), text] : [flagName(meta.flag)],
      );
      const env: NodeJS.ProcessEnv = { GATEHOUSE_SECRET: 'x'.repeat(32) };
      if (meta.env !== undefined) env[meta.env] = String(meta.default);
      const settings = await resolveSettings({ flags: options, env, cwd: dir, log: () => {} });
      assert.deepEqual(valueAt(settings, meta.setting), value, `${key} from ${flagName(meta.flag)} ${text}`);
      checked++;
    }
    assert.ok(checked >= 4, `flags resolved alone by the schema, found ${checked}`);
  });
});
