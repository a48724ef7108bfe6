/**
 * Subject identifiers, OpenID Connect Core §8.
 *
 * - `public` (the default): `sub` is the user's id, the same for every client.
 * - `pairwise` (§8.1): each sector gets its own `sub` for a user, so clients of different
 *   sectors cannot correlate their users by `sub`. The sector identifier is the host of the
 *   client's registered redirect URIs (§8.1: without a `sector_identifier_uri`, which Gatehouse
 *   does not support, a pairwise client must register redirect URIs of one host; the client
 *   metadata validation enforces it). Clients of one host form one sector and share subjects.
 *
 * §8.1 asks that the value be not reversible by anyone but the provider and the same on every
 * request: `sub = base64url(HMAC-SHA-256(K, sector || 0x00 || user id))`, where K is derived
 * from GATEHOUSE_SECRET with HKDF, so every instance sharing the secret computes the same value
 * and nothing extra has to be stored. Gatehouse only ever needs the forward direction: it
 * recognises a pairwise `sub` (in an id_token_hint, say) by computing the expected one for the
 * user at hand and comparing.
 *
 * The `sub` of every token a pairwise client can see is pairwise: the ID token, UserInfo, the
 * JWT access token and its introspection, logout tokens. (A resource server serving several
 * sectors sees different subjects for one user; clients that must share identities belong in
 * one sector.)
 */
import { createHmac } from 'node:crypto';
import type { Client } from '../../store/store.js';
import { deriveSecretKey } from '../secrets.js';

export const SUBJECT_TYPES = ['public', 'pairwise'] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];

/**
 * OIDC Core §8.1: the host component of a redirect URI (without port, so loopback redirect URIs
 * with any port, RFC 8252 §7.3, stay one sector). A private-use URI scheme (RFC 8252 §7.1,
 * `com.example.app:/callback`) has no host: the scheme names the app, so it is the sector.
 */
export function sectorOfRedirectUri(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.hostname !== '' ? url.hostname : url.protocol.slice(0, -1);
}

/** The one sector of a pairwise client's redirect URIs (validated at registration). */
export function sectorIdentifier(client: Pick<Client, 'clientId' | 'redirectUris'>): string {
  const first = client.redirectUris[0];
  // A pairwise client without redirect URIs has no users (client credentials only): its
  // own id is as good a sector as any, and no user subject is ever computed for it.
  return first === undefined ? `client:${client.clientId}` : sectorOfRedirectUri(first);
}

export class SubjectIdentifiers {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    this.#key = Buffer.from(key);
  }

  /** The pairwise key, derived from the instance secret (RFC 5869 HKDF, its own `info`). */
  static fromSecret(secret: string): SubjectIdentifiers {
    return new SubjectIdentifiers(deriveSecretKey(secret, 'gatehouse pairwise subject v1'));
  }

  /** The `sub` this client sees for the user (OIDC Core §8). */
  of(client: Pick<Client, 'clientId' | 'redirectUris' | 'subjectType'>, userId: string): string {
    if (client.subjectType !== 'pairwise') return userId;
    return createHmac('sha256', this.#key)
      .update(sectorIdentifier(client))
      .update('\0')
      .update(userId)
      .digest('base64url');
  }
}
