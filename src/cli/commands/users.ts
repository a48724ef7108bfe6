/**
 * `gatehouse users create|list|delete`: end-user accounts.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { hashPassword } from '../../core/secrets.js';
import { validateUserClaims } from '../../core/users/user-claims.js';
import type { User } from '../../store/store.js';
import { CliError, formatTime, printJson, writeErr, writeOut } from '../output.js';
import {
  isUniqueViolation,
  listCommand,
  listRows,
  storeCommand,
  withStore,
  type ListFlags,
  type StoreFlags,
} from '../shared.js';
import { UserClaimError } from '../../core/errors.js';

function userView(user: User): {
  id: string;
  username: string;
  email: string | null;
  name: string | null;
  claims: Record<string, unknown>;
  created_at: string;
} {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    name: user.name,
    claims: user.claims,
    created_at: formatTime(user.createdAt),
  };
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) writeErr('Enter the password, then press Enter and Ctrl-D:');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

interface UserCreateFlags extends StoreFlags {
  username: string;
  passwordStdin?: boolean;
  email?: string;
  name?: string;
  givenName?: string;
  familyName?: string;
  phone?: string;
  emailVerified?: boolean;
  json?: boolean;
}

async function usersCreate(flags: UserCreateFlags): Promise<void> {
  const username = flags.username;
  if (username.trim() === '' || username.trim() !== username || /[\x00-\x1F\x7F]/.test(username)) {
    throw new CliError('--username must be non-empty, without leading or trailing spaces or control characters');
  }
  if (flags.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(flags.email))
    throw new CliError(`--email ${flags.email} is not an email address`);
  if (flags.name !== undefined && flags.name.trim() === '') throw new CliError('--name must not be empty');
  if (flags.emailVerified && flags.email === undefined) throw new CliError('--email-verified needs --email');
  // OpenID Connect Core §5.1 standard claims.
  let claims: Record<string, unknown>;
  try {
    claims = validateUserClaims({
      given_name: flags.givenName,
      family_name: flags.familyName,
      phone_number: flags.phone,
      email_verified: flags.email === undefined ? undefined : flags.emailVerified === true,
    });
  } catch (error) {
    if (!(error instanceof UserClaimError)) throw error;
    const flag =
      { given_name: '--given-name', family_name: '--family-name', phone_number: '--phone' }[error.field] ?? error.field;
    throw new CliError(`${flag}: ${error.message}`);
  }
  if (!flags.passwordStdin) {
    throw new CliError(
      'a password is required: pass --password-stdin and write the password to standard input (passwords are never taken from the command line)',
    );
  }
  // One trailing newline (from echo or a here-string) is not part of the password.
  const password = (await readStdin()).replace(/\r?\n$/, '');
  if (password === '') throw new CliError('the password read from standard input is empty');

  const user: User = {
    id: randomUUID(),
    username,
    passwordHash: await hashPassword(password),
    email: flags.email ?? null,
    name: flags.name ?? null,
    claims: { ...claims, updated_at: Math.floor(Date.now() / 1000) },
    createdAt: Date.now(),
  };
  await withStore(flags, async (store, events) => {
    if (await store.users.getByUsername(username)) throw new CliError(`a user named ${username} already exists`);
    try {
      await store.users.create(user);
    } catch (error) {
      if (isUniqueViolation(error)) throw new CliError(`a user named ${username} already exists`);
      throw error;
    }
    events.emit({ type: 'user.created', userId: user.id, username, source: 'cli' });
  });
  if (flags.json) return printJson(userView(user));
  writeOut(`Created user ${username} (id ${user.id}).`);
}

const usersList = listRows(async (store) => (await store.users.list()).map(userView), {
  empty: 'No users.',
  headers: ['USERNAME', 'EMAIL', 'NAME', 'CREATED', 'ID'],
  row: (view) => [view.username, view.email ?? '-', view.name ?? '-', view.created_at, view.id],
});

async function usersDelete(username: string, flags: StoreFlags): Promise<void> {
  const deleted = await withStore(flags, async (store, events) => {
    const user = await store.users.getByUsername(username);
    const done = await store.users.delete(username);
    if (done) events.emit({ type: 'user.deleted', userId: user?.id ?? null, username, source: 'cli' });
    return done;
  });
  if (!deleted) throw new CliError(`no user named ${username}`);
  writeOut(`Deleted user ${username} (and their sessions, consents and grants).`);
}

export function registerUsers(program: Command): void {
  const users = program.command('users').description('manage users');
  storeCommand(users, 'create', 'create a user; the password is read from standard input', (command) =>
    command
      .requiredOption('--username <username>', 'login name')
      .option('--password-stdin', 'read the password from standard input (one trailing newline is removed)')
      .option('--email <email>', 'email address')
      .option('--name <name>', 'display name (OIDC claim name)')
      .option('--given-name <name>', 'given (first) name (OIDC claim given_name)')
      .option('--family-name <name>', 'family (last) name (OIDC claim family_name)')
      .option('--phone <number>', 'telephone number, preferably E.164 such as +15550100 (OIDC claim phone_number)')
      .option('--email-verified', 'the email address is verified (OIDC claim email_verified; default false)')
      .option('--json', 'print the user as JSON'),
  ).action((flags: UserCreateFlags) => usersCreate(flags));
  listCommand(users, 'list', 'list users').action((flags: ListFlags) => usersList(flags));
  storeCommand(users, 'delete', 'delete a user', (command) => command.argument('<username>')).action(
    (username: string, flags: StoreFlags) => usersDelete(username, flags),
  );
}
