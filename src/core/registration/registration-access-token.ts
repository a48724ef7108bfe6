/**
 * The bearer tokens of dynamic client registration, both stored only as SHA-256 (they are
 * 256-bit random values, so a fast hash suffices, as for generated client secrets):
 * - RFC 7591 §3 initial access tokens, which the operator issues (`gatehouse registration-tokens
 *   create`) and `registration.mode: token` requires at POST /register;
 * - RFC 7592 §3 registration access tokens, one per self-registered client, for reading,
 *   updating and deleting its registration at its registration_client_uri (rotated on update).
 * Both are presented as RFC 6750 §2.1 bearer tokens; a refused one is 401 invalid_token (§3.1).
 */
import type { ClientRegistration, InitialAccessToken, Store } from '../../store/store.js';
import { InvalidToken } from '../errors.js';
import { randomIdentifier, randomToken, safeEqual, sha256Base64Url } from '../secrets.js';

/** A new token (256 bits) and the hash that is stored. */
export function newBearerToken(): { token: string; hash: string } {
  const token = randomToken(32);
  return { token, hash: sha256Base64Url(token) };
}

/** RFC 6750 §2.1: the token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization ?? '');
  return match?.[1];
}

/** Issues an initial access token (RFC 7591 §3): the token, shown once, and its stored record. */
export async function createInitialAccessToken(
  store: Pick<Store, 'registrations'>,
  options: { now: number; expiresInSeconds?: number; uses?: number },
): Promise<{ token: string; record: InitialAccessToken }> {
  const { token, hash } = newBearerToken();
  const record: InitialAccessToken = {
    id: randomIdentifier(9),
    tokenHash: hash,
    createdAt: options.now,
    expiresAt: options.expiresInSeconds === undefined ? null : options.now + options.expiresInSeconds * 1000,
    usesLeft: options.uses ?? null,
    revokedAt: null,
  };
  await store.registrations.createToken(record);
  return { token, record };
}

/** Whether an initial access token may authorize a registration at `now`. */
export function isUsable(token: InitialAccessToken, now: number): boolean {
  return (
    token.revokedAt === null &&
    (token.expiresAt === null || token.expiresAt > now) &&
    (token.usesLeft === null || token.usesLeft > 0)
  );
}

/**
 * RFC 7591 §3: the hash of the request's initial access token when it is usable (the
 * registration then uses it, registrations.useToken), else InvalidToken.
 */
export async function checkInitialAccessToken(
  store: Pick<Store, 'registrations'>,
  authorization: string | undefined,
  now: number,
): Promise<string> {
  const token = bearerToken(authorization);
  if (token === undefined)
    throw new InvalidToken('registration requires an initial access token (Authorization: Bearer)');
  const hash = sha256Base64Url(token);
  const record = await store.registrations.getToken(hash);
  if (record === undefined || !isUsable(record, now))
    throw new InvalidToken('the initial access token is unknown, expired, revoked or used up');
  return hash;
}

/**
 * RFC 7592 §2: the registration of `clientId` when the request carries its registration access
 * token, else InvalidToken (the same answer for an unknown client, RFC 7592 §2.1).
 */
export async function authenticateRegistration(
  store: Pick<Store, 'registrations'>,
  clientId: string,
  authorization: string | undefined,
): Promise<{ registration: ClientRegistration; token: string }> {
  const token = bearerToken(authorization);
  if (token === undefined)
    throw new InvalidToken('the registration access token is required (Authorization: Bearer, RFC 7592 §3)');
  const registration = await store.registrations.get(clientId);
  if (registration === undefined || !safeEqual(registration.accessTokenHash, sha256Base64Url(token)))
    throw new InvalidToken('the registration access token is not valid for this client');
  return { registration, token };
}
