/**
 * Administering users: the rules a username, an email address and a display name follow, and
 * the changes the CLI (`gatehouse users ...`) and the admin API make, with one code path:
 * OpenID Connect Core §5.1 claims are validated by validateUserClaims, passwords by the
 * NIST SP 800-63B length rule (passwordProblem), and every change announces itself
 * (user.created, user.updated with what changed, user.deleted) with its source and actor.
 */
import { randomUUID } from 'node:crypto';
import type { Store, User } from '../../store/store.js';
import { isUniqueViolation } from '../../store/store-errors.js';
import { AdminConflict, AdminNotFound, AdminValidationFailed, UserClaimError, type FieldProblem } from '../errors.js';
import type { EventBus } from '../events.js';
import { hashPassword } from '../secrets.js';
import { passwordProblem } from '../users/password-policy.js';
import { validateUserClaims, withUpdatedAt } from '../users/user-claims.js';
import type { ChangeOrigin } from './client-administration.js';

/** Why `username` is refused as a login name, or undefined. */
export function usernameProblem(username: string): string | undefined {
  if (username.trim() === '' || username.trim() !== username || /[\x00-\x1F\x7F]/.test(username))
    return 'must be non-empty, without leading or trailing spaces or control characters';
  return undefined;
}

/** Why `email` is no email address, or undefined. */
export function emailProblem(email: string): string | undefined {
  return /^[^\s@]+@[^\s@]+$/.test(email) ? undefined : 'is not an email address';
}

/** Why `name` is refused as a display name (OpenID Connect Core §5.1 `name`), or undefined. */
export function nameProblem(name: string): string | undefined {
  return name.trim() === '' ? 'must not be empty' : undefined;
}

export interface UserAdminDeps {
  store: Pick<Store, 'users'>;
  events: Pick<EventBus, 'emit'>;
  now(): number;
}

/** What a new user is made of (OpenID Connect Core §5.1 names for the claims). */
export interface NewUser {
  username: string;
  password: string;
  email?: string | undefined;
  name?: string | undefined;
  given_name?: string | undefined;
  family_name?: string | undefined;
  phone_number?: string | undefined;
  email_verified?: boolean | undefined;
  admin?: boolean | undefined;
}

/** The changes of an update: what is absent is kept. */
export interface UserChanges {
  email?: string | undefined;
  name?: string | undefined;
  disabled?: boolean | undefined;
  admin?: boolean | undefined;
}

function refuse(problems: FieldProblem[]): void {
  if (problems.length > 0)
    throw new AdminValidationFailed(problems.map((p) => `${p.field} ${p.message}`).join('; '), problems);
}

function profileProblems(input: { email?: string | undefined; name?: string | undefined }): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const email = input.email !== undefined ? emailProblem(input.email) : undefined;
  if (email !== undefined) problems.push({ field: 'email', message: email });
  const name = input.name !== undefined ? nameProblem(input.name) : undefined;
  if (name !== undefined) problems.push({ field: 'name', message: name });
  return problems;
}

/**
 * What is wrong with a new user's fields, in the order a person reads them (username, profile,
 * password, OpenID Connect Core §5.1 claims), and the claims they make. Without a password (the
 * CLI, before it reads one from standard input) the password is not judged.
 */
export function newUserProblems(input: Omit<NewUser, 'password'> & { password?: string | undefined }): {
  problems: FieldProblem[];
  claims: Record<string, unknown>;
} {
  const problems = profileProblems(input);
  const username = usernameProblem(input.username);
  if (username !== undefined) problems.unshift({ field: 'username', message: username });
  const password = input.password === undefined ? undefined : passwordProblem(input.password);
  if (password !== undefined) problems.push({ field: 'password', message: password });
  if (input.email_verified === true && input.email === undefined)
    problems.push({ field: 'email_verified', message: 'needs email' });
  let claims: Record<string, unknown> = {};
  try {
    claims = validateUserClaims({
      given_name: input.given_name,
      family_name: input.family_name,
      phone_number: input.phone_number,
      email_verified: input.email === undefined ? undefined : input.email_verified === true,
    });
  } catch (error) {
    if (!(error instanceof UserClaimError)) throw error;
    problems.push({ field: error.field, message: error.message });
  }
  return { problems, claims };
}

/** Validates and stores a new user; AdminValidationFailed lists every refused field, AdminConflict a taken username. */
export async function createUser(input: NewUser, deps: UserAdminDeps, origin: ChangeOrigin): Promise<User> {
  const { problems, claims } = newUserProblems(input);
  refuse(problems);
  const now = deps.now();
  const user: User = {
    id: randomUUID(),
    username: input.username,
    passwordHash: await hashPassword(input.password),
    email: input.email ?? null,
    name: input.name ?? null,
    claims: { ...claims, updated_at: Math.floor(now / 1000) },
    createdAt: now,
    ...(input.admin === true ? { admin: true } : {}),
  };
  const taken = `a user named ${input.username} already exists`;
  if (await deps.store.users.getByUsername(input.username)) throw new AdminConflict(taken);
  try {
    await deps.store.users.create(user);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AdminConflict(taken);
    throw error;
  }
  deps.events.emit({ type: 'user.created', userId: user.id, username: user.username, ...origin }, now);
  return user;
}

/** The user with this id, or AdminNotFound. */
export async function existingUser(store: Pick<Store, 'users'>, id: string): Promise<User> {
  const user = await store.users.getById(id);
  if (!user) throw new AdminNotFound(`no user with id ${id}`);
  return user;
}

/**
 * Changes a user's profile, sign-in (disabled: the user can no longer sign in; nothing is
 * revoked) or admin role. A new email address is not verified (OpenID Connect Core §5.1
 * email_verified); updated_at moves only when a claim changed.
 */
export async function updateUser(
  user: User,
  changes: UserChanges,
  deps: UserAdminDeps,
  origin: ChangeOrigin,
): Promise<User> {
  refuse(profileProblems(changes));
  const now = deps.now();
  const name = changes.name ?? user.name;
  const email = changes.email ?? user.email;
  const claims = email === user.email ? user.claims : { ...user.claims, email_verified: false };
  const disabledAt =
    changes.disabled === true ? (user.disabledAt ?? now) : changes.disabled === false ? undefined : user.disabledAt;
  const admin = changes.admin ?? user.admin;
  const updated = await deps.store.users.upsert({
    ...user,
    name,
    email,
    claims: withUpdatedAt({ name, email, claims }, user, now),
    disabledAt,
    admin,
  });
  const change =
    changes.disabled !== undefined && (changes.disabled ? user.disabledAt === undefined : user.disabledAt !== undefined)
      ? { change: changes.disabled ? 'disabled' : 'enabled' }
      : changes.admin !== undefined && changes.admin !== (user.admin === true)
        ? { change: 'admin' }
        : {};
  deps.events.emit({ type: 'user.updated', userId: updated.id, username: updated.username, ...origin, ...change }, now);
  return updated;
}

/**
 * Replaces a user's password (NIST SP 800-63B §3.1.1.2 length rule). Their current sessions and
 * tokens stay valid: revoke them separately.
 */
export async function setUserPassword(
  user: User,
  password: string,
  deps: UserAdminDeps,
  origin: ChangeOrigin,
): Promise<User> {
  const problem = passwordProblem(password);
  if (problem !== undefined) refuse([{ field: 'password', message: problem }]);
  const updated = await deps.store.users.upsert({ ...user, passwordHash: await hashPassword(password) });
  deps.events.emit(
    { type: 'user.updated', userId: updated.id, username: updated.username, ...origin, change: 'password' },
    deps.now(),
  );
  return updated;
}

/** Deletes a user with their sessions, consents and grants. */
export async function deleteUser(user: User, deps: UserAdminDeps, origin: ChangeOrigin): Promise<void> {
  if (!(await deps.store.users.delete(user.username))) throw new AdminNotFound(`no user with id ${user.id}`);
  deps.events.emit({ type: 'user.deleted', userId: user.id, username: user.username, ...origin }, deps.now());
}
