/**
 * `gatehouse users create|list|update|set-password|delete`: end-user accounts.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { hashPassword } from '../../core/secrets.js';
import { passwordProblem } from '../../core/users/password-policy.js';
import { validateUserClaims, withUpdatedAt } from '../../core/users/user-claims.js';
import type { User } from '../../store/store.js';
import { CliError, formatTime, printJson, writeOut } from '../output.js';
import {
  isUniqueViolation,
  listCommand,
  listRows,
  readStdin,
  storeCommand,
  withStore,
  type ListFlags,
  type StoreFlags,
} from '../shared.js';
import { UserClaimError } from '../../core/errors.js';
import { emailProblem, nameProblem, usernameProblem } from '../../core/admin/user-administration.js';

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

/**
 * The password of `--password-stdin`, checked against the length rule (NIST SP 800-63B
 * §3.1.1.2, src/core/users/password-policy.ts) before anything is hashed or stored.
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

/** `--email`: an address (the same rule as users create). */
function checkEmail(email: string | undefined): void {
  const problem = email !== undefined ? emailProblem(email) : undefined;
  if (problem !== undefined) throw new CliError(`--email ${email} ${problem}`);
}

/** `--name`: not blank. */
function checkName(name: string | undefined): void {
  const problem = name !== undefined ? nameProblem(name) : undefined;
  if (problem !== undefined) throw new CliError(`--name ${problem}`);
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
  const problem = usernameProblem(username);
  if (problem !== undefined) throw new CliError(`--username ${problem}`);
  checkEmail(flags.email);
  checkName(flags.name);
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
  const password = await readPassword(flags.passwordStdin);

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

/** Reads `username`, changes it with `change` and stores it, announcing user.updated; the updated user. */
async function updateUser(
  username: string,
  flags: StoreFlags,
  change: (user: User) => Promise<User> | User,
): Promise<User> {
  return withStore(flags, async (store, events) => {
    const user = await store.users.getByUsername(username);
    if (!user) throw new CliError(`no user named ${username}`);
    const updated = await store.users.upsert(await change(user));
    events.emit({ type: 'user.updated', userId: updated.id, username, source: 'cli' });
    return updated;
  });
}

async function usersUpdate(username: string, flags: UserUpdateFlags): Promise<void> {
  if (flags.disable && flags.enable) throw new CliError('--disable and --enable exclude each other');
  if (flags.name === undefined && flags.email === undefined && !flags.disable && !flags.enable)
    throw new CliError('nothing to update: pass --name, --email, --disable or --enable');
  checkEmail(flags.email);
  checkName(flags.name);
  const now = Date.now();
  const updated = await updateUser(username, flags, (user) => {
    const name = flags.name ?? user.name;
    const email = flags.email ?? user.email;
    // A new address is not verified (OpenID Connect Core §5.1 email_verified).
    const claims = email === user.email ? user.claims : { ...user.claims, email_verified: false };
    const disabledAt = flags.disable ? (user.disabledAt ?? now) : flags.enable ? undefined : user.disabledAt;
    return { ...user, name, email, claims: withUpdatedAt({ name, email, claims }, user, now), disabledAt };
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
  const passwordHash = await hashPassword(password);
  await updateUser(username, flags, (user) => ({ ...user, passwordHash }));
  writeOut(
    `Set the password of user ${username}. Their current sign-in sessions and tokens stay valid (nothing was revoked).`,
  );
}

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
