/**
 * Dynamic client registration (RFC 7591, RFC 7592): the registrations of self-registered
 * clients (their registration access token, hashed, and when they were last active) and the
 * operator's initial access tokens (hashed). A registration dies with its client (ON DELETE
 * CASCADE); the clients themselves are written through the ClientRepository.
 */
import type { ClientRegistration, InitialAccessToken } from '../records.js';
import type { Executor } from '../executor.js';
import { rowCodec } from './row-codec.js';
import { findRecord, listRecords } from './row-queries.js';

export interface RegistrationRepository {
  /** Records the registration of a client just created (in the same transaction). */
  create(registration: ClientRegistration): Promise<void>;
  get(clientId: string): Promise<ClientRegistration | undefined>;
  /** RFC 7592 §2.2: replaces the registration access token's hash; false when there is no such registration. */
  rotateAccessToken(clientId: string, accessTokenHash: string): Promise<boolean>;
  /**
   * Marks the client active at `now`, only when it was last marked at or before `now -
   * minIntervalMs` (one conditional UPDATE, so a busy client costs at most one write per interval).
   */
  touch(clientId: string, now: number, minIntervalMs: number): Promise<void>;

  createToken(token: InitialAccessToken): Promise<void>;
  /** The initial access token with this hash, whatever its state. */
  getToken(tokenHash: string): Promise<InitialAccessToken | undefined>;
  /**
   * Uses the token once: atomically, only while it is unrevoked, unexpired at `now` and has uses
   * left (then one fewer). Of concurrent callers on a token with one use left exactly one gets true.
   */
  useToken(tokenHash: string, now: number): Promise<boolean>;
  /** Every initial access token, newest first. */
  listTokens(): Promise<InitialAccessToken[]>;
  /** Revokes the token with this id at `now`; false when there is none or it was revoked before. */
  revokeToken(id: string, now: number): Promise<boolean>;
}

export function registrationRepository(ex: Executor): RegistrationRepository {
  return {
    create: (registration) => ex.run(REGISTRATION.insert(registration)),
    get: (clientId) => findRecord(ex, REGISTRATION, (query) => query.where('client_id', '=', clientId)),
    rotateAccessToken: async (clientId, accessTokenHash) => {
      const result = await ex.db
        .updateTable('client_registrations')
        .set({ access_token_hash: accessTokenHash })
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    touch: async (clientId, now, minIntervalMs) => {
      await ex.db
        .updateTable('client_registrations')
        .set({ last_active_at: now })
        .where('client_id', '=', clientId)
        .where('last_active_at', '<=', now - minIntervalMs)
        .execute();
    },

    createToken: (token) => ex.run(INITIAL_ACCESS_TOKEN.insert(token)),
    getToken: (tokenHash) => findRecord(ex, INITIAL_ACCESS_TOKEN, (query) => query.where('token_hash', '=', tokenHash)),
    useToken: async (tokenHash, now) => {
      const row = await ex.db
        .updateTable('registration_tokens')
        .set(({ eb }) => ({
          uses_left: eb
            .case()
            .when('uses_left', 'is', null)
            .then(null)
            .else(eb('uses_left', '-', 1))
            .end(),
        }))
        .where('token_hash', '=', tokenHash)
        .where('revoked_at', 'is', null)
        .where(({ or, eb }) => or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .where(({ or, eb }) => or([eb('uses_left', 'is', null), eb('uses_left', '>', 0)]))
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },
    listTokens: () =>
      listRecords(ex, INITIAL_ACCESS_TOKEN, (query) => query.orderBy('created_at', 'desc').orderBy('id')),
    revokeToken: async (id, now) => {
      const result = await ex.db
        .updateTable('registration_tokens')
        .set({ revoked_at: now })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

const REGISTRATION = rowCodec<ClientRegistration, 'client_registrations'>('client_registrations', {
  clientId: true,
  accessTokenHash: true,
  createdAt: true,
  lastActiveAt: true,
});

const INITIAL_ACCESS_TOKEN = rowCodec<InitialAccessToken, 'registration_tokens'>('registration_tokens', {
  id: true,
  tokenHash: true,
  createdAt: true,
  expiresAt: true,
  usesLeft: true,
  revokedAt: true,
});
