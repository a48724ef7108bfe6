/**
 * `gatehouse registration-tokens create|list|revoke`: the initial access tokens (RFC 7591 §3)
 * that `registration.mode: token` requires at POST /register. A token is printed once, at
 * creation; the store keeps only its SHA-256.
 */
import type { Command } from 'commander';
import { createInitialAccessToken, isUsable } from '../../core/registration/registration-access-token.js';
import type { InitialAccessToken } from '../../store/store.js';
import { CliError, formatTime, printJson, writeOut } from '../output.js';
import { listCommand, listRows, storeCommand, withStore, type StoreFlags } from '../shared.js';

interface CreateFlags extends StoreFlags {
  expiresIn?: string;
  uses?: string;
  json?: boolean;
}

function tokenView(token: InitialAccessToken, now: number) {
  return {
    id: token.id,
    created_at: formatTime(token.createdAt),
    expires_at: formatTime(token.expiresAt),
    uses_left: token.usesLeft,
    revoked_at: formatTime(token.revokedAt),
    usable: isUsable(token, now),
  };
}

/** A positive integer flag of at most `max`, or undefined without it. */
function positiveFlag(name: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = /^\d{1,10}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(number) || number < 1 || number > max)
    throw new CliError(`${name} must be an integer from 1 to ${max}, not ${JSON.stringify(value)}`);
  return number;
}

async function tokensCreate(flags: CreateFlags): Promise<void> {
  const expiresInSeconds = positiveFlag('--expires-in', flags.expiresIn, 10 * 365 * 86400);
  const uses = positiveFlag('--uses', flags.uses, 1_000_000);
  const now = Date.now();
  const { token, record } = await withStore(flags, (store) =>
    createInitialAccessToken(store, {
      now,
      ...(expiresInSeconds !== undefined ? { expiresInSeconds } : {}),
      ...(uses !== undefined ? { uses } : {}),
    }),
  );
  if (flags.json) return printJson({ ...tokenView(record, now), token });
  writeOut(`Initial access token ${record.id} (shown only now; the server stores its hash):`);
  writeOut(token);
  writeOut(
    `Valid ${record.expiresAt === null ? 'until revoked' : `until ${formatTime(record.expiresAt)}`}, for ${
      record.usesLeft === null ? 'any number of registrations' : `${record.usesLeft} registration(s)`
    }. Send it as "Authorization: Bearer <token>" to POST /register.`,
  );
}

const tokensList = listRows(
  async (store) => {
    const now = Date.now();
    return (await store.registrations.listTokens()).map((token) => tokenView(token, now));
  },
  {
    empty: 'No registration tokens.',
    headers: ['ID', 'CREATED', 'EXPIRES', 'USES_LEFT', 'STATE'],
    row: (view) => [
      view.id,
      view.created_at ?? '-',
      view.expires_at ?? 'never',
      view.uses_left === null ? 'unlimited' : String(view.uses_left),
      view.revoked_at !== null ? 'revoked' : view.usable ? 'usable' : 'expired or used up',
    ],
  },
);

async function tokensRevoke(id: string, flags: StoreFlags): Promise<void> {
  const revoked = await withStore(flags, (store) => store.registrations.revokeToken(id, Date.now()));
  if (!revoked) throw new CliError(`no unrevoked registration token ${id}`);
  writeOut(`Revoked registration token ${id}.`);
}

export function registerRegistrationTokens(program: Command): void {
  const tokens = program
    .command('registration-tokens')
    .description('manage initial access tokens for dynamic client registration (RFC 7591, registration.mode: token)');
  storeCommand(tokens, 'create', 'create an initial access token and print it (once)', (command) =>
    command
      .option('--expires-in <seconds>', 'the token expires this many seconds from now (default: never)')
      .option('--uses <n>', 'the token authorizes at most this many registrations (default: unlimited)')
      .option('--json', 'print the token and its record as JSON'),
  ).action((flags: CreateFlags) => tokensCreate(flags));
  listCommand(tokens, 'list', 'list initial access tokens (never the tokens themselves)').action((flags) =>
    tokensList(flags),
  );
  storeCommand(tokens, 'revoke', 'revoke an initial access token', (command) => command.argument('<id>')).action(
    (id: string, flags: StoreFlags) => tokensRevoke(id, flags),
  );
}
