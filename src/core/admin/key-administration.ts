/**
 * Signing key rotation through the admin API (OpenID Connect Core §10.1.1), with the rules of
 * `gatehouse keys` (src/core/keys/key-lifecycle.ts does the work): what a key's state is, how
 * long a retired key stays published, and which algorithms must keep an active key.
 */
import type { GatehouseSettings } from '../../config/settings.js';
import type { SigningKeyRecord, Store } from '../../store/store.js';
import { AdminNotFound, AdminValidationFailed } from '../errors.js';
import type { EventBus } from '../events.js';
import {
  keyState,
  maxSignedTokenLifetimeSeconds,
  retireSigningKey,
  retiredKeyRetentionMs,
  rotateSigningKey,
  type KeyState,
} from '../keys/key-lifecycle.js';
import type { SigningAlg } from '../keys/signing-key-crypto.js';
import { idTokenSigningAlgs } from '../token/id-token.js';
import type { ChangeOrigin } from './client-administration.js';

export type KeySettings = Pick<
  GatehouseSettings,
  'signingAlg' | 'idTokenSignedResponseAlgDefault' | 'accessTokenTtlSeconds' | 'keyActivationDelaySeconds' | 'secret'
>;

export interface KeyAdminDeps {
  store: Pick<Store, 'signingKeys'>;
  events: EventBus;
  settings: KeySettings;
  now(): number;
}

const ALGS: readonly SigningAlg[] = ['ES256', 'EdDSA', 'RS256'];

/** How long a retired key stays in the JWKS: until every token it signed has expired. */
export function keyRetentionMs(settings: Pick<GatehouseSettings, 'accessTokenTtlSeconds'>): number {
  return retiredKeyRetentionMs(maxSignedTokenLifetimeSeconds(settings));
}

/** The algorithms the servers sign with (access tokens and ID tokens); each must keep an active key. */
export function requiredSigningAlgs(
  settings: Pick<GatehouseSettings, 'signingAlg' | 'idTokenSignedResponseAlgDefault'>,
): SigningAlg[] {
  return [settings.signingAlg, ...idTokenSigningAlgs(settings.signingAlg, settings.idTokenSignedResponseAlgDefault)];
}

/** Every key with its state at `now`. */
export async function listKeys(
  deps: Pick<KeyAdminDeps, 'store' | 'settings' | 'now'>,
): Promise<Array<{ record: SigningKeyRecord; state: KeyState }>> {
  const records = await deps.store.signingKeys.list();
  const now = deps.now();
  const retention = keyRetentionMs(deps.settings);
  return records.map((record) => ({ record, state: keyState(record, records, now, retention) }));
}

/** Key rotation step 1: a new key, published at once, signing after `activateAfterSeconds` (default: the setting). */
export async function rotateKey(
  input: { alg?: string | undefined; activateAfterSeconds?: number | undefined },
  deps: KeyAdminDeps,
  origin: ChangeOrigin,
): Promise<SigningKeyRecord> {
  const alg = input.alg ?? deps.settings.signingAlg;
  if (!(ALGS as readonly string[]).includes(alg))
    throw new AdminValidationFailed(`alg must be one of ${ALGS.join(', ')}`, [
      { field: 'alg', message: `must be one of ${ALGS.join(', ')}` },
    ]);
  return rotateSigningKey(deps.store, deps.settings.secret, {
    alg: alg as SigningAlg,
    activateAfterSeconds: input.activateAfterSeconds ?? deps.settings.keyActivationDelaySeconds,
    now: deps.now(),
    events: deps.events,
    ...origin,
  });
}

/** Key rotation step 2: the key stops signing; refused (KeyManagementError) for the last active key of a required algorithm. */
export async function retireKey(kid: string, deps: KeyAdminDeps, origin: ChangeOrigin): Promise<SigningKeyRecord> {
  if (!(await deps.store.signingKeys.get(kid))) throw new AdminNotFound(`no signing key with kid ${kid}`);
  return retireSigningKey(deps.store, kid, {
    requiredAlgs: requiredSigningAlgs(deps.settings),
    now: deps.now(),
    events: deps.events,
    ...origin,
  });
}
