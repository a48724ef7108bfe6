/**
 * Who may use the admin API (src/http/routes/admin/): Gatehouse's own OAuth, dogfooded. A request
 * carries an access token this server issued for the admin API's resource identifier
 * (`<issuer>/admin/v1`, RFC 8707), verified by gatehouse-resource (RFC 9068); this file decides
 * what the verified token may do:
 * - its scope (RFC 6749 §3.3): `gatehouse:admin` allows everything, `gatehouse:<family>:read`
 *   the reads of one family and `gatehouse:<family>:write` its reads and changes;
 * - a token issued to a user (authorization code) also needs the user to hold the admin role and
 *   not be disabled; a client credentials token (RFC 6749 §4.4) is the client's own;
 * - the token must still be on record and not revoked (RFC 7009), which a JWT alone cannot say.
 */
import type { ProtectedResource, Store } from '../../store/store.js';
import { AdminProblem, AdminTokenRefused } from '../errors.js';

/** Where the admin API is served, below the issuer's path. */
export const ADMIN_API_PATH = '/admin/v1';

/** The scope that allows every admin operation. */
export const ADMIN_SCOPE = 'gatehouse:admin';

/** The route families, each with its read and write scope. */
export const ADMIN_FAMILIES = [
  'clients',
  'users',
  'resources',
  'keys',
  'sessions',
  'audit',
  'registration_tokens',
] as const;

export type AdminFamily = (typeof ADMIN_FAMILIES)[number];
export type AdminAccess = 'read' | 'write';

/** `gatehouse:<family>:<access>`. */
export function familyScope(family: AdminFamily, access: AdminAccess): string {
  return `gatehouse:${family}:${access}`;
}

/** Every scope of the admin API (its resource's scopes, and what `scopes_supported` lists). */
export const ADMIN_SCOPES: readonly string[] = [
  ADMIN_SCOPE,
  ...ADMIN_FAMILIES.flatMap((family) => [familyScope(family, 'read'), familyScope(family, 'write')]),
];

/** The admin API's resource identifier (RFC 8707 §2): the audience its tokens must carry. */
export function adminAudience(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}${ADMIN_API_PATH}`;
}

/**
 * The admin API as a protected resource: built in, never stored, so that the token endpoint
 * issues tokens for it (`resource=<issuer>/admin/v1`) without any registration.
 */
export function adminResource(issuer: string): ProtectedResource {
  return {
    identifier: adminAudience(issuer),
    name: 'Gatehouse admin API',
    scopes: [...ADMIN_SCOPES],
    introspectionClientIds: [],
    createdAt: 0,
  };
}

/** Whether `scopes` allow `access` to `family`: the admin scope, the family's scope, or (to read) its write scope. */
export function allowsAccess(scopes: readonly string[], family: AdminFamily, access: AdminAccess): boolean {
  if (scopes.includes(ADMIN_SCOPE) || scopes.includes(familyScope(family, 'write'))) return true;
  return access === 'read' && scopes.includes(familyScope(family, 'read'));
}

/** Who made an admin API request: the client the token was issued to, and the user for a user token. */
export interface AdminActor {
  clientId: string;
  userId: string | null;
  username: string | null;
}

/** What the verified token says (RFC 9068 §2.2 claims). */
export interface AdminTokenClaims {
  jti?: string;
  client_id: string;
  scope?: string;
}

/**
 * The actor of a request whose token was verified (signature, issuer, audience, expiry) and
 * whose route needs `access` to `family`; throws AdminTokenRefused (RFC 6750 §3.1) or a 403
 * AdminProblem for a user without the admin role.
 */
export async function authorizeAdmin(
  claims: AdminTokenClaims,
  family: AdminFamily,
  access: AdminAccess,
  deps: { store: Pick<Store, 'accessTokens' | 'users'>; now(): number },
): Promise<AdminActor> {
  // RFC 7009 §2.2: a revoked token is refused at once; the record also says whom it was issued for.
  const record = claims.jti !== undefined ? await deps.store.accessTokens.get(claims.jti) : undefined;
  if (!record) throw new AdminTokenRefused('invalid_token', 'the access token is not known to this server');
  if (record.revokedAt !== null) throw new AdminTokenRefused('invalid_token', 'the access token was revoked');
  if (record.expiresAt <= deps.now()) throw new AdminTokenRefused('invalid_token', 'the access token has expired');
  const scopes = (claims.scope ?? '').split(' ').filter((scope) => scope !== '');
  if (!allowsAccess(scopes, family, access)) {
    // RFC 6750 §3.1: the challenge names the scope that would do.
    throw new AdminTokenRefused(
      'insufficient_scope',
      `this request needs the scope ${familyScope(family, access)} or ${ADMIN_SCOPE}`,
      `${familyScope(family, access)} ${ADMIN_SCOPE}`,
    );
  }
  if (record.userId === null) return { clientId: record.clientId, userId: null, username: null };
  const user = await deps.store.users.getById(record.userId);
  if (!user?.admin || user.disabledAt !== undefined) {
    throw new AdminProblem(
      403,
      'not-an-admin',
      'Not an administrator',
      'the access token was issued to a user who does not hold the admin role (gatehouse admin bootstrap --user)',
    );
  }
  return { clientId: record.clientId, userId: user.id, username: user.username };
}
