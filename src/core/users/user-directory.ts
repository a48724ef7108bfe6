/**
 * Where users are looked up and their passwords checked: the one interface of sign-in, UserInfo,
 * ID token claims, the consent and logout pages and the device page. The default is the store's
 * `users` table; an app embedding Gatehouse (src/embed.ts) may keep its own user table instead.
 *
 * Sessions, consents, codes and tokens reference a user row of the store (foreign keys), so a
 * directory other than the store keeps a "shadow" row per user signed in: the directory's id,
 * its username (or `external:<id>` when a store user already has it) and no usable password.
 * Claims are always read from the directory, never from the shadow row.
 */
import type { Store, User } from '../../store/store.js';
import { dummyPasswordHashFor, hashPassword, verifyPassword } from '../secrets.js';

/** A user as Gatehouse sees it: OIDC Core §5.1 claims, no password. */
export type DirectoryUser = Pick<User, 'id' | 'username' | 'email' | 'name' | 'claims' | 'disabledAt'>;

export interface UserDirectory {
  findByUsername(username: string): Promise<DirectoryUser | undefined>;
  findById(id: string): Promise<DirectoryUser | undefined>;
  /** Whether `password` is the user's; `undefined` (unknown username) takes as long and is false. */
  verifyPassword(user: DirectoryUser | undefined, password: string): Promise<boolean>;
  /** After a successful sign-in, before the session is stored: the user row it references exists. */
  signedIn(user: DirectoryUser): Promise<void>;
  /**
   * Sets the user's password (already checked against src/core/users/password-policy.ts), for the
   * account page's change-password form; absent when the passwords live elsewhere and the app
   * gave no way to change them (the form is then not offered).
   */
  changePassword?: ((user: DirectoryUser, newPassword: string) => Promise<void>) | undefined;
  /**
   * This directory reading the store's users through `store` (a transaction, src/core/atomic.ts:
   * on SQLite a read outside it would wait for the only connection the transaction holds).
   */
  readingWith(store: Pick<Store, 'users'>): UserDirectory;
}

/** The default: the store's users (created with the CLI or the config file's `users:`). */
export function storeUserDirectory(store: Pick<Store, 'users'>): UserDirectory {
  return {
    findByUsername: (username) => store.users.getByUsername(username),
    findById: (id) => store.users.getById(id),
    async verifyPassword(user, password) {
      // An unknown user is checked against a dummy hash so that it takes as long as a wrong password.
      const hash = (user as Partial<User> | undefined)?.passwordHash ?? (await dummyPasswordHashFor());
      return (await verifyPassword(hash, password)) && user !== undefined;
    },
    signedIn: async () => {},
    async changePassword(user, newPassword) {
      const stored = await store.users.getById(user.id);
      if (!stored) return;
      await store.users.upsert({ ...stored, passwordHash: await hashPassword(newPassword) });
    },
    readingWith: (transactional) => storeUserDirectory(transactional),
  };
}

/** A user of an app's own user table: `id` and `username`, and any OIDC Core §5.1 claims. */
export interface ExternalUser {
  id: string;
  username: string;
  name?: string | null;
  email?: string | null;
  [claim: string]: unknown;
}

/** An app's own user table (see docs/embedding.md). */
export interface ExternalUsers<U extends ExternalUser = ExternalUser> {
  findByUsername(username: string): U | undefined | Promise<U | undefined>;
  findById(id: string): U | undefined | Promise<U | undefined>;
  verifyPassword(user: U, password: string): boolean | Promise<boolean>;
  /** Optional: lets users change their password on the account page (`/account`). */
  changePassword?(user: U, newPassword: string): void | Promise<void>;
}

/** The app's users as a UserDirectory, with a shadow row in the store per user signed in. */
export function externalUserDirectory<U extends ExternalUser>(
  users: ExternalUsers<U>,
  store: Pick<Store, 'users'>,
  now: () => number,
): UserDirectory {
  const originals = new WeakMap<DirectoryUser, U>();
  const wrap = (user: U | undefined): DirectoryUser | undefined => {
    if (user === undefined || user === null) return undefined;
    const { id, username, name, email, ...claims } = user;
    const wrapped: DirectoryUser = { id, username, name: name ?? null, email: email ?? null, claims };
    originals.set(wrapped, user);
    return wrapped;
  };
  const directory: UserDirectory = {
    // The app's users are not in the store; only signedIn writes to it, never in a transaction.
    readingWith: () => directory,
    findByUsername: async (username) => wrap(await users.findByUsername(username)),
    findById: async (id) => wrap(await users.findById(id)),
    async verifyPassword(user, password) {
      const original = user && originals.get(user);
      return original !== undefined && (await users.verifyPassword(original, password)) === true;
    },
    changePassword:
      users.changePassword === undefined
        ? undefined
        : async (user, newPassword) => {
            const original = originals.get(user) ?? (await users.findById(user.id));
            if (original) await users.changePassword?.(original, newPassword);
          },
    async signedIn(user) {
      if (await store.users.getById(user.id)) return;
      const taken = await store.users.getByUsername(user.username);
      const shadow: User = {
        id: user.id,
        username: taken ? `external:${user.id}` : user.username,
        // Not a password hash: verifying any password against it fails (src/core/secrets.ts).
        passwordHash: '',
        email: null,
        name: null,
        claims: {},
        createdAt: now(),
      };
      try {
        await store.users.create(shadow);
      } catch (error) {
        // Two sign-ins of the same new user at once: the other one created the row.
        if (!(await store.users.getById(user.id))) throw error;
      }
    },
  };
  return directory;
}
