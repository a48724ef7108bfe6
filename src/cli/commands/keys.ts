/**
 * `gatehouse keys list|rotate|retire`: signing keys (OpenID Connect Core §10.1.1 key rotation).
 */
import { Option, type Command } from 'commander';
import type { GatehouseSettings } from '../../config/settings.js';
import type { SigningKeyRecord } from '../../store/store.js';
import { CliError, formatTime, printJson, printList, writeErr, writeOut } from '../output.js';
import { listCommand, settingsFor, storeCommand, withStore, type StoreFlags } from '../shared.js';

interface KeysFlags extends StoreFlags {
  json?: boolean;
}

interface KeysRotateFlags extends KeysFlags {
  alg?: 'ES256' | 'EdDSA' | 'RS256';
  activateAfter?: string;
}

/** The key management helpers, loaded when a `keys` command runs. */
async function keyTools() {
  const keys = await import('../../core/keys/key-lifecycle.js');
  const { KeyManagementError } = await import('../../core/errors.js');
  // The same rules as the admin API's key routes (src/core/admin/key-administration.ts).
  const { keyRetentionMs, requiredSigningAlgs } = await import('../../core/admin/key-administration.js');
  /** How long retired keys stay published with these settings (every token they signed has expired then). */
  const retentionMs = (settings: GatehouseSettings): number => keyRetentionMs(settings);
  /** The algorithms a server with these settings signs with; each must keep an active key. */
  const requiredAlgs = (settings: GatehouseSettings) => requiredSigningAlgs(settings);
  /** Runs `fn`, turning a refusal into a one-line CLI failure. */
  const refusals = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof KeyManagementError) throw new CliError(error.message);
      throw error;
    }
  };
  return { ...keys, retentionMs, requiredAlgs, refusals };
}

function keyView(record: SigningKeyRecord, state: string, retentionMs: number) {
  return {
    kid: record.kid,
    alg: record.alg,
    state,
    created_at: formatTime(record.createdAt),
    activates_at: formatTime(record.activatesAt),
    retired_at: record.retiredAt === null ? null : formatTime(record.retiredAt),
    /** When a retired key leaves the JWKS. */
    published_until: record.retiredAt === null ? null : formatTime(record.retiredAt + retentionMs),
  };
}

async function keysList(flags: KeysFlags): Promise<void> {
  const tools = await keyTools();
  const settings = await settingsFor(flags, false);
  const records = await withStore(flags, (store) => store.signingKeys.list());
  const now = Date.now();
  const retention = tools.retentionMs(settings);
  const views = records.map((record) => keyView(record, tools.keyState(record, records, now, retention), retention));
  printList(views, flags.json, {
    empty: 'No signing keys (the server creates one at its first start).',
    headers: ['KID', 'ALG', 'STATE', 'CREATED', 'ACTIVATES', 'RETIRED'],
    row: (view) => [view.kid, view.alg, view.state, view.created_at, view.activates_at, view.retired_at ?? '-'],
  });
}

function parseSeconds(flag: string, value: string): number {
  const seconds = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(seconds))
    throw new CliError(`${flag} must be a whole number of seconds (0 or more), not ${JSON.stringify(value)}`);
  return seconds;
}

async function keysRotate(flags: KeysRotateFlags): Promise<void> {
  const tools = await keyTools();
  // The new private key is encrypted under GATEHOUSE_SECRET, like the server's.
  const settings = await settingsFor(flags, true);
  const alg = flags.alg ?? settings.signingAlg;
  const delay =
    flags.activateAfter === undefined
      ? settings.keyActivationDelaySeconds
      : parseSeconds('--activate-after', flags.activateAfter);
  const now = Date.now();
  const { record, before } = await withStore(flags, async (store, events) => {
    const existing = await store.signingKeys.list();
    const created = await tools.refusals(() =>
      tools.rotateSigningKey(store, settings.secret, { alg, activateAfterSeconds: delay, now, events }),
    );
    return { record: created, before: existing };
  });
  const previous = tools.activeRecordFor(before, alg, now);
  const retention = tools.retentionMs(settings);
  const reload = `${tools.KEY_RELOAD_INTERVAL_MS / 1000} s`;
  // Until every server has loaded the key and every cached JWKS has expired, some verifiers lack it.
  const safeDelay = tools.JWKS_MAX_AGE_SECONDS + tools.KEY_RELOAD_INTERVAL_MS / 1000;
  if (delay < safeDelay) {
    writeErr(
      `Warning: the key signs in less than ${safeDelay} s (the ${reload} in which running servers load new keys plus the ${tools.JWKS_MAX_AGE_SECONDS} s a JWKS may be cached): verifiers with an older JWKS may refuse its tokens until they fetch the JWKS again.`,
    );
  }
  if (flags.json)
    return printJson(keyView(record, tools.keyState(record, [...before, record], now, retention), retention));
  writeOut(`Created ${alg} signing key ${record.kid}.`);
  // PostgreSQL announces the change (LISTEN/NOTIFY): servers load it at once; the periodic
  // reload is the bound when a notification is lost, and on SQLite.
  writeOut(`  Published in the JWKS: now (running servers load it at once on PostgreSQL, within ${reload} at most)`);
  writeOut(`  Signs from:            ${formatTime(record.activatesAt)}${delay > 0 ? ` (in ${delay} s)` : ''}`);
  if (previous) {
    writeOut('');
    writeOut(
      `The previous ${alg} key ${previous.kid} ${delay > 0 ? 'signs until then and ' : ''}keeps validating the tokens it signed: it stays in the JWKS. ` +
        `Once the new key is active, retire it with: gatehouse keys retire ${previous.kid}`,
    );
  }
}

async function keysRetire(kid: string, flags: KeysFlags): Promise<void> {
  const tools = await keyTools();
  const settings = await settingsFor(flags, false);
  const record = await withStore(flags, (store, events) =>
    tools.refusals(() => tools.retireSigningKey(store, kid, { requiredAlgs: tools.requiredAlgs(settings), events })),
  );
  const retention = tools.retentionMs(settings);
  if (flags.json) return printJson(keyView(record, 'retired', retention));
  writeOut(
    `Retired signing key ${kid}: it no longer signs (running servers stop using it at once on PostgreSQL, within ${tools.KEY_RELOAD_INTERVAL_MS / 1000} s at most). ` +
      `It stays in the JWKS until ${formatTime(record.retiredAt! + retention)}, when every token it signed has expired.`,
  );
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('manage signing keys: rotation without invalidating issued tokens');
  listCommand(keys, 'list', 'list signing keys: pending, active, previous, retired, expired').action(
    (flags: KeysFlags) => keysList(flags),
  );
  storeCommand(
    keys,
    'rotate',
    'create a signing key: published in the JWKS at once, signing after the activation delay',
    (command) =>
      command
        .addOption(
          new Option('--alg <alg>', 'algorithm of the new key (default: signing_alg)').choices([
            'ES256',
            'EdDSA',
            'RS256',
          ]),
        )
        .option(
          '--activate-after <seconds>',
          'seconds until it starts signing (default: key_activation_delay_seconds, 600)',
        )
        .option('--json', 'print the new key as JSON'),
  ).action((flags: KeysRotateFlags) => keysRotate(flags));
  storeCommand(
    keys,
    'retire',
    'stop signing with a key; it stays in the JWKS until every token it signed has expired',
    (command) =>
      command
        .argument(
          '<kid>',
          "the key id (from 'keys list'); a kid that starts with '-' goes after '--': keys retire -- -AbC...",
        )
        .option('--json', 'print the key as JSON'),
  ).action((kid: string, flags: KeysFlags) => keysRetire(kid, flags));
}
