/**
 * The life of the signing keys every instance shares (OpenID Connect Core §10.1.1 rotation):
 * which key signs for an algorithm, the state of each key, how long a retired key stays
 * published, and the two steps of a rotation (a new key, then retiring the old one), which
 * `gatehouse keys` and the key ring (./key-ring.ts) run on the store.
 */
import type { GatehouseSettings } from '../../config/settings.js';
import type { SigningKeyRecord, Store } from '../../store/store.js';
import { KeyManagementError } from '../errors.js';
import type { ChangeActor, ChangeSource, EventBus } from '../events.js';
import {
  createSigningKeyRecord,
  decryptPrivateJwk,
  deriveKeyEncryptionKey,
  type SigningAlg,
} from './signing-key-crypto.js';

/** How often a running server reloads its keys from the store, to see keys that `gatehouse keys` or another instance made. */
export const KEY_RELOAD_INTERVAL_MS = 30_000;
/** The Cache-Control max-age of /jwks (src/http/routes/discovery.ts): how long caches may keep an old key set. */
export const JWKS_MAX_AGE_SECONDS = 300;

/**
 * The life of a signing key (`gatehouse keys list`):
 * - `pending`: published in the JWKS, not signing yet (activatesAt is in the future);
 * - `active`: the key that signs for its algorithm;
 * - `previous`: superseded by a newer active key, still published so its tokens keep validating;
 * - `retired`: no longer signs, still published while tokens it signed may be alive;
 * - `expired`: retired long enough that every token it signed has expired; no longer published.
 */
export type KeyState = 'pending' | 'active' | 'previous' | 'retired' | 'expired';

/**
 * The longest lifetime of a JWT Gatehouse signs: access tokens, and ID tokens, which get the same
 * lifetime (src/core/token/issue-tokens.ts). A longer-lived signed token must be accounted for here.
 */
export function maxSignedTokenLifetimeSeconds(settings: Pick<GatehouseSettings, 'accessTokenTtlSeconds'>): number {
  return settings.accessTokenTtlSeconds;
}

/**
 * How long a retired key stays in the JWKS: until every token it signed has expired. Tokens live
 * at most `maxTokenLifetimeSeconds` (plus up to a second: access token `exp` is rounded up), and
 * another instance may go on signing with the key for up to one reload interval after the
 * retirement, until it reloads its keys.
 */
export function retiredKeyRetentionMs(
  maxTokenLifetimeSeconds: number,
  reloadIntervalMs = KEY_RELOAD_INTERVAL_MS,
): number {
  return (maxTokenLifetimeSeconds + 1) * 1000 + reloadIntervalMs;
}

export function isRetired(record: SigningKeyRecord, now: number): boolean {
  return record.retiredAt !== null && record.retiredAt <= now;
}

/**
 * The active key for `alg` at `now`: of the keys not retired, the one activated most recently
 * (ties: newest, then highest kid, so that every instance picks the same key).
 */
export function activeRecordFor(
  records: readonly SigningKeyRecord[],
  alg: string,
  now: number,
): SigningKeyRecord | undefined {
  return signingCandidates(records, alg, now).active;
}

/**
 * The record that signs for `alg` at `now`: the active one, or when none has activated yet (this
 * clock is behind the one of the instance that created the first key) the one activating first.
 */
export function signingRecordFor(
  records: readonly SigningKeyRecord[],
  alg: string,
  now: number,
): SigningKeyRecord | undefined {
  const { active, soonest } = signingCandidates(records, alg, now);
  return active ?? soonest;
}

function signingCandidates(records: readonly SigningKeyRecord[], alg: string, now: number) {
  let active: SigningKeyRecord | undefined;
  let soonest: SigningKeyRecord | undefined;
  for (const record of records) {
    if (record.alg !== alg || isRetired(record, now)) continue;
    if (record.activatesAt <= now) {
      if (
        !active ||
        record.activatesAt > active.activatesAt ||
        (record.activatesAt === active.activatesAt &&
          (record.createdAt > active.createdAt || (record.createdAt === active.createdAt && record.kid > active.kid)))
      ) {
        active = record;
      }
    } else if (!soonest || record.activatesAt < soonest.activatesAt) {
      soonest = record;
    }
  }
  return { active, soonest };
}

/** The state of `record` at `now`, among `records` (every key of the store). */
export function keyState(
  record: SigningKeyRecord,
  records: readonly SigningKeyRecord[],
  now: number,
  retentionMs: number,
): KeyState {
  if (isRetired(record, now)) return record.retiredAt! + retentionMs <= now ? 'expired' : 'retired';
  if (activeRecordFor(records, record.alg, now)?.kid === record.kid) return 'active';
  return record.activatesAt > now ? 'pending' : 'previous';
}

/**
 * Key rotation, step 1 (OpenID Connect Core §10.1.1): a new key for `alg`, published at once and
 * signing from `activateAfterSeconds` on. The previous key is left alone: it stays published and
 * keeps validating the tokens it signed until it is retired.
 */
export async function rotateSigningKey(
  store: Pick<Store, 'signingKeys'>,
  secret: string,
  options: {
    alg: SigningAlg;
    activateAfterSeconds: number;
    now?: number;
    events?: EventBus;
    source?: ChangeSource;
    actor?: ChangeActor;
  },
): Promise<SigningKeyRecord> {
  const now = options.now ?? Date.now();
  const kek = deriveKeyEncryptionKey(secret);
  // A key sealed under another secret would stop every instance from loading its keys.
  const existing = (await store.signingKeys.list()).find((record) => !isRetired(record, now));
  if (existing) {
    try {
      await decryptPrivateJwk(existing.privateJwkEncrypted, kek);
    } catch {
      throw new KeyManagementError(
        `GATEHOUSE_SECRET differs from the one the signing keys are stored with (key ${existing.kid} cannot be decrypted); refusing to create a key the servers could not load`,
      );
    }
  }
  const record = await createRotatedKey(store, kek, options.alg, options.activateAfterSeconds, now);
  options.events?.emit(
    {
      type: 'key.rotated',
      kid: record.kid,
      alg: record.alg,
      activatesAt: record.activatesAt,
      source: options.source ?? 'cli',
      ...(options.actor !== undefined ? { actor: options.actor } : {}),
    },
    now,
  );
  return record;
}

export async function createRotatedKey(
  store: Pick<Store, 'signingKeys'>,
  kek: Uint8Array,
  alg: SigningAlg,
  activateAfterSeconds: number,
  now: number,
): Promise<SigningKeyRecord> {
  if (!Number.isFinite(activateAfterSeconds) || activateAfterSeconds < 0) {
    throw new KeyManagementError(
      `the activation delay must be a number of seconds, 0 or more, not ${activateAfterSeconds}`,
    );
  }
  const record = await createSigningKeyRecord(alg, kek, now, now + Math.round(activateAfterSeconds * 1000));
  await store.signingKeys.create(record);
  return record;
}

/**
 * Key rotation, step 2: the key stops signing at `now`. It stays in the JWKS until the tokens it
 * signed have expired (retiredKeyRetentionMs). Refused when it would leave one of `requiredAlgs`
 * (the algorithms the servers sign with: the default one and those of ID tokens) without an active key.
 */
export async function retireSigningKey(
  store: Pick<Store, 'signingKeys'>,
  kid: string,
  options: {
    requiredAlgs: readonly SigningAlg[];
    now?: number;
    events?: EventBus;
    source?: ChangeSource;
    actor?: ChangeActor;
  },
): Promise<SigningKeyRecord> {
  const now = options.now ?? Date.now();
  const records = await store.signingKeys.list();
  const record = records.find((candidate) => candidate.kid === kid);
  if (!record) throw new KeyManagementError(`no signing key with kid ${kid}`);
  if (record.retiredAt !== null)
    throw new KeyManagementError(
      `signing key ${kid} is already retired (since ${new Date(record.retiredAt).toISOString()})`,
    );
  if ((options.requiredAlgs as readonly string[]).includes(record.alg)) {
    const others = records.filter((other) => other.kid !== kid && other.alg === record.alg && !isRetired(other, now));
    if (!others.some((other) => other.activatesAt <= now)) {
      const next = others.sort((a, b) => a.activatesAt - b.activatesAt)[0];
      const hint = next
        ? `wait until the next ${record.alg} key (${next.kid}) activates at ${new Date(next.activatesAt).toISOString()}`
        : `run: gatehouse keys rotate --alg ${record.alg} --activate-after 0 (or with the default delay, then wait until it activates)`;
      throw new KeyManagementError(
        `refusing to retire ${kid}: it is the only active ${record.alg} signing key; ${hint}`,
      );
    }
  }
  if (!(await store.signingKeys.retire(kid, now)))
    throw new KeyManagementError(`signing key ${kid} is already retired`);
  options.events?.emit(
    {
      type: 'key.retired',
      kid,
      alg: record.alg,
      source: options.source ?? 'cli',
      ...(options.actor !== undefined ? { actor: options.actor } : {}),
    },
    now,
  );
  return { ...record, retiredAt: now };
}
