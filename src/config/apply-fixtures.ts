/**
 * Applies the clients and users of the config file to the store, idempotently: applying the
 * same settings again changes nothing (same ids, same creation times, same hashes), so every
 * instance sharing a database can apply them at start.
 */
import { randomUUID } from 'node:crypto';
import { validateClientMetadata } from '../core/registration/client-metadata.js';
import { hashClientSecret, hashPassword, safeEqual, verifyClientSecret, verifyPassword } from '../core/secrets.js';
import { validateUserClaims, withUpdatedAt } from '../core/users/user-claims.js';
import { passwordProblem } from '../core/users/password-policy.js';
import type { EventBus } from '../core/events.js';
import type { Client, Store, User } from '../store/store.js';
import { ConfigError } from './load-config.js';
import type { GatehouseSettings } from './settings.js';
import { ClientMetadataError, UserClaimError } from '../core/errors.js';
import { registerClient, withSealedSecret } from '../core/registration/client-registration.js';
import { openClientSecret } from '../core/clients/client-secret-seal.js';

export interface AppliedFixtures {
  clients: number;
  users: number;
  resources: number;
}

/** JSON with object keys sorted, so that equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Whether `sealed` is `secret` sealed under `instanceSecret`. */
async function sealedSecretIs(sealed: string | null, secret: string, instanceSecret: string | undefined) {
  if (sealed === null || instanceSecret === undefined) return false;
  try {
    return safeEqual(Buffer.from(await openClientSecret(sealed, instanceSecret)).toString('utf8'), secret);
  } catch {
    return false;
  }
}

/** Whether an upsert changes a client (its creation time aside). */
function clientChanged(existing: Client, next: Client): boolean {
  return canonical({ ...existing, createdAt: 0 }) !== canonical({ ...next, createdAt: 0 });
}

function userChanged(existing: User, next: User): boolean {
  return canonical(existing) !== canonical(next);
}

/**
 * `events` receives client.created/updated and user.created/updated (source `config`) for the
 * fixtures that changed something, for the audit trail; re-applying unchanged fixtures is silent.
 */
export async function applyFixtures(
  store: Store,
  settings: Pick<GatehouseSettings, 'clients' | 'users'> &
    Partial<Pick<GatehouseSettings, 'resources' | 'outboundAllowPrivateAddresses' | 'secret'>>,
  now: number,
  events?: EventBus,
): Promise<AppliedFixtures> {
  for (const [index, fixture] of settings.clients.entries()) {
    const path = `clients[${index}]`;
    let client;
    try {
      const outbound = { allowPrivateAddresses: settings.outboundAllowPrivateAddresses === true };
      validateClientMetadata(fixture, outbound);
      // The secret is hashed below, so that an unchanged secret keeps its existing hash.
      ({ client } = await registerClient(
        { ...fixture, client_secret: undefined },
        { generateSecret: false, now, outbound },
      ));
    } catch (error) {
      if (error instanceof ClientMetadataError) {
        throw new ConfigError(
          `Invalid client fixture ${path}.${error.field}: ${error.message}`,
          `${path}.${error.field}`,
        );
      }
      throw error;
    }
    // A private_key_jwt client authenticates with its key (RFC 7523 §2.2), every other confidential one with its secret.
    if (client.tokenEndpointAuthMethod !== 'none' && client.tokenEndpointAuthMethod !== 'private_key_jwt') {
      if (fixture.client_secret === undefined) {
        throw new ConfigError(
          `Invalid client fixture ${path}.client_secret: confidential client ${fixture.client_id} has no client_secret, so it could never authenticate; set one, or make it public with token_endpoint_auth_method: none`,
          `${path}.client_secret`,
        );
      }
    }
    const existing = await store.clients.get(client.clientId);
    if (fixture.client_secret !== undefined) {
      const keep =
        existing?.clientSecretHash != null &&
        (await verifyClientSecret(existing.clientSecretHash, fixture.client_secret));
      client.clientSecretHash = keep
        ? (existing?.clientSecretHash as string)
        : await hashClientSecret(fixture.client_secret, false);
      // client_secret_jwt: the sealed secret too, kept when it still opens to this secret (sealing
      // is randomised, so a new one would read as a change at every start).
      if (client.tokenEndpointAuthMethod === 'client_secret_jwt') {
        client.clientSecretSealed =
          keep && (await sealedSecretIs(existing?.clientSecretSealed ?? null, fixture.client_secret, settings.secret))
            ? (existing?.clientSecretSealed as string)
            : await withSealedSecret(fixture.client_secret, settings.secret);
      }
    }
    if (existing) client.createdAt = existing.createdAt;
    await store.clients.upsert(client);
    if (!existing) events?.emit({ type: 'client.created', clientId: client.clientId, source: 'config' }, now);
    else if (clientChanged(existing, client))
      events?.emit({ type: 'client.updated', clientId: client.clientId, source: 'config' }, now);
  }

  for (const [index, fixture] of settings.users.entries()) {
    if (typeof fixture.username !== 'string' || fixture.username === '') {
      throw new ConfigError(
        `Invalid user fixture users[${index}].username: must be a non-empty string`,
        `users[${index}].username`,
      );
    }
    if (typeof fixture.password !== 'string' || fixture.password === '') {
      throw new ConfigError(
        `Invalid user fixture users[${index}].password: must be a non-empty string`,
        `users[${index}].password`,
      );
    }
    const weak = passwordProblem(fixture.password);
    if (weak !== undefined)
      throw new ConfigError(`Invalid user fixture users[${index}].password: ${weak}`, `users[${index}].password`);
    const existing = await store.users.getByUsername(fixture.username);
    // Keep a hash that still verifies: no re-hashing cost, and the stored row does not churn.
    const keep = existing !== undefined && (await verifyPassword(existing.passwordHash, fixture.password));
    let claims: Record<string, unknown>;
    try {
      claims = validateUserClaims(fixture);
    } catch (error) {
      if (error instanceof UserClaimError) {
        throw new ConfigError(
          `Invalid user fixture users[${index}].${error.field}: ${error.message}`,
          `users[${index}].${error.field}`,
        );
      }
      throw error;
    }
    const email = fixture.email ?? null;
    const name = fixture.name ?? null;
    const stored = await store.users.upsert({
      id: existing?.id ?? randomUUID(),
      username: fixture.username,
      passwordHash: keep ? (existing?.passwordHash as string) : await hashPassword(fixture.password),
      email,
      name,
      // OIDC Core §5.1 updated_at moves only when the user's claims changed.
      claims: withUpdatedAt({ email, name, claims }, existing, now),
      createdAt: existing?.createdAt ?? now,
      // Disabling is the CLI's (gatehouse users update --disable): a restart does not re-enable the user.
      disabledAt: existing?.disabledAt,
      // So is the admin role (gatehouse admin bootstrap --user, or the admin API).
      admin: existing?.admin,
    });
    if (!existing)
      events?.emit({ type: 'user.created', userId: stored.id, username: stored.username, source: 'config' }, now);
    else if (userChanged(existing, stored))
      events?.emit({ type: 'user.updated', userId: stored.id, username: stored.username, source: 'config' }, now);
  }

  const resources = settings.resources ?? [];
  for (const fixture of resources) {
    const existing = await store.resources.get(fixture.resource);
    await store.resources.upsert({
      identifier: fixture.resource,
      name: fixture.name ?? null,
      scopes: fixture.scopes,
      introspectionClientIds: fixture.introspection_client_ids,
      createdAt: existing?.createdAt ?? now,
    });
  }

  return { clients: settings.clients.length, users: settings.users.length, resources: resources.length };
}
