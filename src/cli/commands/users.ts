/**
 * `gatehouse users create|list|update|set-password|delete`: end-user accounts. Every change goes
 * through the same functions as the admin API (src/core/admin/user-administration.ts): one
 * validation, one set of change events; this file only reads flags and words the refusals as
 * the flags that caused them.
 */
import type { Command } from 'commander';
import {
  createUser,
  deleteUser,
  newUserProblems,
  setUserPassword,
  updateUser,
  type UserAdminDeps,
} from '../../core/admin/user-administration.js';
import { AdminConflict, AdminNotFound, AdminValidationFailed, type FieldProblem } from '../../core/errors.js';
import type { EventBus } from '../../core/events.js';
import { passwordProblem } from '../../core/users/password-policy.js';
import type { Store, User } from '../../store/store.js';
import { CliError, formatTime, printJson, writeOut } from '../output.js';
import {
  listCommand,
  listRows,
  readStdin,
  storeCommand,
  withStore,
  type ListFlags,
  type StoreFlags,
} from '../shared.js';

function userView(user: User): {
  id: string;
  username: string;
  email: string | null;
  name: string | null;
  claims: Record<string, unknown>;
  created_at: string;
  disabled_at: string | null;
} {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    name: user.name,
    claims: user.claims,
    created_at: formatTime(user.createdAt),
    disabled_at: formatTime(user.disabledAt ?? null),
  };
}

const CLI: { source: 'cli' } = { source: 'cli' };

function adminDeps(store: Store, events: EventBus): UserAdminDeps {
  return { store, events, now: Date.now };
}

/** A refused field as the flag (or input) it came from, e.g. `--email x is not an email address`. */
function flagProblem(problem: FieldProblem, flags: { email?: string | undefined }): string {
  switch (problem.field) {
    case 'username':
      return `--username ${problem.message}`;
    case 'email':
      return `--email ${flags.email} ${problem.message}`;
    case 'name':
      return `--name ${problem.message}`;
    case 'password':
      return `the password read from standard input ${problem.message}`;
    case 'email_verified':
      return '--email-verified needs --email';
    default: {
      const flag =
        { given_name: '--given-name', family_name: '--family-name', phone_number: '--phone' }[problem.field] ??
        problem.field;
      return `${flag}: ${problem.message}`;
    }
  }
}

/** Runs a change of the core, turning its refusals into the CLI's messages. */
async function asCli<T>(flags: { email?: string | undefined }, change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (error) {
    if (error instanceof AdminValidationFailed)
      throw new CliError(error.errors.map((problem) => flagProblem(problem, flags)).join('; '));
    if (error instanceof AdminConflict || error instanceof AdminNotFound) throw new CliError(error.message);
    throw error;
  }
}

/**
 * The password of `--password-stdin`, checked against the length rule (NIST SP 800-63B
 * §3.1.1.2, src/core/users/password-policy.ts) as soon as it is read, before the database is opened.
 */
async function readPassword(passwordStdin: boolean | undefined): Promise<string> {
  if (!passwordStdin) {
    throw new CliError(
      'a password is required: pass --password-stdin and write the password to standard input (passwords are never taken from the command line)',
    );
  }
  // One trailing newline (from echo or a here-string) is not part of the password.
  const password = (await readStdin('the password')).replace(/\r?\n$/, '');
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new CliError(`the password read from standard input ${problem}`);
  return password;
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
  const input = {
    username: flags.username,
    email: flags.email,
    name: flags.name,
    // OpenID Connect Core §5.1 standard claims.
    given_name: flags.givenName,
    family_name: flags.familyName,
    phone_number: flags.phone,
    email_verified: flags.emailVerified,
  };
  // The flags are judged (by the admin API's rules) before standard input is read.
  const [problem] = newUserProblems(input).problems;
  if (problem !== undefined) throw new CliError(flagProblem(problem, flags));
  const password = await readPassword(flags.passwordStdin);
  const user = await withStore(flags, (store, events) =>
    asCli(flags, () => createUser({ ...input, password }, adminDeps(store, events), CLI)),
  );
  if (flags.json) return printJson(userView(user));
  writeOut(`Created user ${user.username} (id ${user.id}).`);
}

const usersList = listRows(async (store) => (await store.users.list()).map(userView), {
  empty: 'No users.',
  headers: ['USERNAME', 'EMAIL', 'NAME', 'CREATED', 'DISABLED', 'ID'],
  row: (view) => [
    view.username,
    view.email ?? '-',
    view.name ?? '-',
    view.created_at,
    view.disabled_at ?? '-',
    view.id,
  ],
});

interface UserUpdateFlags extends StoreFlags {
  name?: string;
  email?: string;
  disable?: boolean;
  enable?: boolean;
  json?: boolean;
}

/** The user named `username`, or the CLI's refusal. */
async function namedUser(store: Store, username: string): Promise<User> {
  const user = await store.users.getByUsername(username);
  if (!user) throw new CliError(`no user named ${username}`);
  return user;
}

async function usersUpdate(username: string, flags: UserUpdateFlags): Promise<void> {
  if (flags.disable && flags.enable) throw new CliError('--disable and --enable exclude each other');
  if (flags.name === undefined && flags.email === undefined && !flags.disable && !flags.enable)
    throw new CliError('nothing to update: pass --name, --email, --disable or --enable');
  const updated = await withStore(flags, async (store, events) => {
    const user = await namedUser(store, username);
    return asCli(flags, () =>
      updateUser(
        user,
        {
          name: flags.name,
          email: flags.email,
          disabled: flags.disable ? true : flags.enable ? false : undefined,
        },
        adminDeps(store, events),
        CLI,
      ),
    );
  });
  if (flags.json) return printJson(userView(updated));
  writeOut(`Updated user ${username}.`);
  if (flags.disable) {
    writeOut(
      'The user can no longer sign in. Nothing was revoked: their current sign-in sessions, refresh tokens and access tokens stay valid until they end or expire (delete the user to remove them all).',
    );
  }
  if (flags.enable) writeOut('The user can sign in again.');
}

async function usersSetPassword(username: string, flags: StoreFlags & { passwordStdin?: boolean }): Promise<void> {
  const password = await readPassword(flags.passwordStdin);
  await withStore(flags, async (store, events) => {
    const user = await namedUser(store, username);
    return asCli({}, () => setUserPassword(user, password, adminDeps(store, events), CLI));
  });
  writeOut(
    `Set the password of user ${username}. Their current sign-in sessions and tokens stay valid (nothing was revoked).`,
  );
}

async function usersDelete(username: string, flags: StoreFlags): Promise<void> {
  await withStore(flags, async (store, events) => {
    const user = await namedUser(store, username);
    await asCli({}, () => deleteUser(user, adminDeps(store, events), CLI));
  });
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
  storeCommand(users, 'update', "change a user's name or email, or disable or enable their sign-in", (command) =>
    command
      .argument('<username>')
      .option('--name <name>', 'display name (OIDC claim name)')
      .option('--email <email>', 'email address (a new one is not verified: OIDC claim email_verified false)')
      .option('--disable', 'the user can no longer sign in (nothing is revoked)')
      .option('--enable', 'the user can sign in again')
      .option('--json', 'print the user as JSON'),
  ).action((username: string, flags: UserUpdateFlags) => usersUpdate(username, flags));
  storeCommand(users, 'set-password', "replace a user's password; it is read from standard input", (command) =>
    command
      .argument('<username>')
      .option('--password-stdin', 'read the password from standard input (one trailing newline is removed)'),
  ).action((username: string, flags: StoreFlags & { passwordStdin?: boolean }) => usersSetPassword(username, flags));
  storeCommand(users, 'delete', 'delete a user', (command) => command.argument('<username>')).action(
    (username: string, flags: StoreFlags) => usersDelete(username, flags),
  );
}
