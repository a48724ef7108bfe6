/**
 * Signing keys: generated at first start, stored in the database with the private part
 * encrypted at rest, shared by every instance that uses the same database and secret.
 *
 * Encryption at rest is a compact JWE (`dir`, `A256GCM`) made with jose, under a 256-bit key
 * derived from GATEHOUSE_SECRET with HKDF-SHA-256. Without the secret the stored keys are useless.
 * The refresh token successors the ring seals (KeyRing.seal) use another key derived from the
 * same secret under its own HKDF `info` (RFC 5869 §3.2: one derived key per purpose).
 */
import { hkdfSync, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader, exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';
import { DEFAULT_SETTINGS, type GatehouseSettings } from '../../config/settings.js';
import type { SigningKeyRecord, Store } from '../../store/store.js';
import type { ChangeSource, EventBus } from '../events.js';
import { KeyManagementError } from '../errors.js';

export type SigningAlg = 'ES256' | 'EdDSA' | 'RS256';

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/**
 * Derives the key-encryption key of the signing keys from the instance secret (RFC 5869 HKDF).
 * Its `info` is unchanged since the first release, so the key rings already stored load as they are.
 */
export function deriveKeyEncryptionKey(secret: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, 'gatehouse', 'gatehouse signing-key encryption v1', 32));
}

/**
 * Derives the key that seals refresh token successors (KeyRing.seal) from the instance secret,
 * under its own HKDF `info` (RFC 5869 §3.2), so that it is never the key that encrypts the
 * signing keys: a sealed successor can never be opened as, or traded for, a signing key.
 */
export function deriveSealingKey(secret: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, 'gatehouse', 'gatehouse refresh-successor sealing v1', 32));
}

/**
 * The `kid` of the JWEs sealed under deriveSealingKey. A sealed value without it was sealed
 * under the signing-key KEK by an earlier release; such a value lives only as long as the
 * refresh grace window (refreshTokenGraceSeconds) and is still opened with that key.
 */
export const SEALING_KEY_ID = 'refresh-successor-v1';

export async function encryptPrivateJwk(jwk: JWK, kek: Uint8Array): Promise<string> {
  const plaintext = new TextEncoder().encode(JSON.stringify(jwk));
  return new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(kek);
}

export async function decryptPrivateJwk(jwe: string, kek: Uint8Array): Promise<JWK> {
  const { plaintext } = await compactDecrypt(jwe, kek, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
  return JSON.parse(new TextDecoder().decode(plaintext)) as JWK;
}

export async function createSigningKeyRecord(alg: SigningAlg, kek: Uint8Array, now: number, activatesAt = now): Promise<SigningKeyRecord> {
  for (;;) {
    const { privateKey, publicKey } = await generateKeyPair(alg, {
      extractable: true,
      ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
      ...(alg === 'RS256' ? { modulusLength: 2048 } : {}),
    });
    const publicJwk = await exportJWK(publicKey);
    // RFC 7638 thumbprint: a stable, collision-free key id. One that starts with "-" (1 key in
    // 64) would read as an option in `gatehouse keys retire KID`, so such a key is discarded.
    const kid = await calculateJwkThumbprint(publicJwk);
    if (kid.startsWith('-')) continue;
    return sealSigningKeyRecord(alg, kek, now, activatesAt, kid, publicJwk, await exportJWK(privateKey));
  }
}

async function sealSigningKeyRecord(
  alg: SigningAlg,
  kek: Uint8Array,
  now: number,
  activatesAt: number,
  kid: string,
  publicJwk: JWK,
  privateJwk: JWK,
): Promise<SigningKeyRecord> {
  return {
    kid,
    alg,
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
    privateJwkEncrypted: await encryptPrivateJwk(privateJwk, kek),
    createdAt: now,
    activatesAt,
    retiredAt: null,
  };
}

/** How often a running server reloads its keys from the store, to see keys that `gatehouse keys` or another instance made. */
export const KEY_RELOAD_INTERVAL_MS = 30_000;
/** The Cache-Control max-age of /jwks (src/http/routes/discovery.ts): how long caches may keep an old key set. */
export const JWKS_MAX_AGE_SECONDS = 300;
/** Minimum time between reloads caused by an unknown `kid`, so that made-up kids cannot flood the database. */
const UNKNOWN_KID_RELOAD_COOLDOWN_MS = 1_000;

/**
 * The life of a signing key (`gatehouse keys list`):
 * - `pending`: published in the JWKS, not signing yet (activatesAt is in the future);
 * - `active`: the key that signs for its algorithm;
 * - `previous`: superseded by a newer active key, still published so its tokens keep validating;
 * - `retired`: no longer signs, still published while tokens it signed may be alive;
 * - `expired`: retired long enough that every token it signed has expired; no longer published.
 */
export type KeyState = 'pending' | 'active' | 'previous' | 'retired' | 'expired';

export interface KeyRingOptions {
  /** The longest lifetime of a token the ring signs, in seconds (default: the default access token lifetime, 1 h). */
  maxTokenLifetimeSeconds?: number;
  /** How often `startAutoReload` reloads the keys (default KEY_RELOAD_INTERVAL_MS). */
  reloadIntervalMs?: number;
}

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
export function retiredKeyRetentionMs(maxTokenLifetimeSeconds: number, reloadIntervalMs = KEY_RELOAD_INTERVAL_MS): number {
  return (maxTokenLifetimeSeconds + 1) * 1000 + reloadIntervalMs;
}

function isRetired(record: SigningKeyRecord, now: number): boolean {
  return record.retiredAt !== null && record.retiredAt <= now;
}

/**
 * The active key for `alg` at `now`: of the keys not retired, the one activated most recently
 * (ties: newest, then highest kid, so that every instance picks the same key).
 */
export function activeRecordFor(records: readonly SigningKeyRecord[], alg: string, now: number): SigningKeyRecord | undefined {
  return signingCandidates(records, alg, now).active;
}

/**
 * The record that signs for `alg` at `now`: the active one, or when none has activated yet (this
 * clock is behind the one of the instance that created the first key) the one activating first.
 */
export function signingRecordFor(records: readonly SigningKeyRecord[], alg: string, now: number): SigningKeyRecord | undefined {
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
        (record.activatesAt === active.activatesAt && (record.createdAt > active.createdAt || (record.createdAt === active.createdAt && record.kid > active.kid)))
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
export function keyState(record: SigningKeyRecord, records: readonly SigningKeyRecord[], now: number, retentionMs: number): KeyState {
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
  store: Store,
  secret: string,
  options: { alg: SigningAlg; activateAfterSeconds: number; now?: number; events?: EventBus; source?: ChangeSource },
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
  options.events?.emit({ type: 'key.rotated', kid: record.kid, alg: record.alg, activatesAt: record.activatesAt, source: options.source ?? 'cli' }, now);
  return record;
}

async function createRotatedKey(store: Store, kek: Uint8Array, alg: SigningAlg, activateAfterSeconds: number, now: number): Promise<SigningKeyRecord> {
  if (!Number.isFinite(activateAfterSeconds) || activateAfterSeconds < 0) {
    throw new KeyManagementError(`the activation delay must be a number of seconds, 0 or more, not ${activateAfterSeconds}`);
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
  store: Store,
  kid: string,
  options: { requiredAlgs: readonly SigningAlg[]; now?: number; events?: EventBus; source?: ChangeSource },
): Promise<SigningKeyRecord> {
  const now = options.now ?? Date.now();
  const records = await store.signingKeys.list();
  const record = records.find((candidate) => candidate.kid === kid);
  if (!record) throw new KeyManagementError(`no signing key with kid ${kid}`);
  if (record.retiredAt !== null) throw new KeyManagementError(`signing key ${kid} is already retired (since ${new Date(record.retiredAt).toISOString()})`);
  if ((options.requiredAlgs as readonly string[]).includes(record.alg)) {
    const others = records.filter((other) => other.kid !== kid && other.alg === record.alg && !isRetired(other, now));
    if (!others.some((other) => other.activatesAt <= now)) {
      const next = others.sort((a, b) => a.activatesAt - b.activatesAt)[0];
      const hint = next
        ? `wait until the next ${record.alg} key (${next.kid}) activates at ${new Date(next.activatesAt).toISOString()}`
        : `run: gatehouse keys rotate --alg ${record.alg} --activate-after 0 (or with the default delay, then wait until it activates)`;
      throw new KeyManagementError(`refusing to retire ${kid}: it is the only active ${record.alg} signing key; ${hint}`);
    }
  }
  if (!(await store.signingKeys.retire(kid, now))) throw new KeyManagementError(`signing key ${kid} is already retired`);
  options.events?.emit({ type: 'key.retired', kid, alg: record.alg, source: options.source ?? 'cli' }, now);
  return { ...record, retiredAt: now };
}

interface LoadedKey {
  kid: string;
  alg: SigningAlg;
  record: SigningKeyRecord;
  publicJwk: JWK;
  publicKey: KeyObject;
  /** Absent for retired keys: they never sign again, so their private part is not decrypted. */
  signing: SigningKey | undefined;
}

/**
 * The signing keys of this server, loaded from the store that every instance shares. For each
 * algorithm the active key is the one activated most recently and not retired; every key that
 * is not expired (pending, active, previous, retired while its tokens may live) is published in
 * the JWKS. Keys created or retired elsewhere (the CLI, another instance) are seen at the next
 * reload: every KEY_RELOAD_INTERVAL_MS with startAutoReload, and at once for an unknown `kid`
 * (findPublicKey).
 */
export class KeyRing {
  private keys: LoadedKey[] = [];
  private reloading: Promise<void> | undefined;
  private lastUnknownKidReload = Number.NEGATIVE_INFINITY;
  /** The longest lifetime of a token signed by this ring, in seconds. */
  readonly maxTokenLifetimeSeconds: number;
  readonly reloadIntervalMs: number;
  /** The algorithms the ring was opened for (the default one first). */
  readonly algs: readonly SigningAlg[];

  private constructor(
    private readonly store: Store,
    private readonly kek: Uint8Array,
    /** deriveSealingKey: seals refresh token successors, never the signing keys. */
    private readonly sealingKeyBytes: Uint8Array,
    /** The algorithm used when a caller names none. */
    readonly defaultAlg: SigningAlg,
    extraAlgs: readonly SigningAlg[],
    options: KeyRingOptions,
  ) {
    this.algs = [...new Set([defaultAlg, ...extraAlgs])];
    this.maxTokenLifetimeSeconds = options.maxTokenLifetimeSeconds ?? DEFAULT_SETTINGS.accessTokenTtlSeconds;
    this.reloadIntervalMs = options.reloadIntervalMs ?? KEY_RELOAD_INTERVAL_MS;
  }

  /**
   * Loads the keys, creating a key for each algorithm in `algs` that has none yet (or only retired
   * ones). The first algorithm is the default one (access tokens, and ID tokens unless a client
   * asks otherwise).
   */
  static async open(
    store: Store,
    secret: string,
    alg: SigningAlg,
    now = Date.now(),
    extraAlgs: SigningAlg[] = [],
    options: KeyRingOptions = {},
  ): Promise<KeyRing> {
    const ring = new KeyRing(store, deriveKeyEncryptionKey(secret), deriveSealingKey(secret), alg, extraAlgs, options);
    await ring.reload();
    for (const wanted of [alg, ...extraAlgs]) {
      if (!ring.keys.some((key) => key.alg === wanted && !isRetired(key.record, now))) {
        await store.signingKeys.create(await createSigningKeyRecord(wanted, ring.kek, now));
        await ring.reload();
      }
    }
    return ring;
  }

  /** Reads the keys from the store again. Private parts already decrypted are reused. */
  async reload(): Promise<void> {
    const records = await this.store.signingKeys.list();
    const previous = new Map(this.keys.map((key) => [key.kid, key]));
    const loaded: LoadedKey[] = [];
    for (const record of records) {
      const known = previous.get(record.kid);
      let signing = known?.signing;
      // A retired key never signs again: its private part is not needed.
      if (!signing && !isRetired(record, Date.now())) {
        let privateJwk: JWK;
        try {
          privateJwk = await decryptPrivateJwk(record.privateJwkEncrypted, this.kek);
        } catch {
          throw new Error(
            `signing key ${record.kid} cannot be decrypted: GATEHOUSE_SECRET differs from the one the key was stored with`,
          );
        }
        signing = {
          kid: record.kid,
          alg: record.alg as SigningAlg,
          privateKey: createPrivateKey({ key: privateJwk as import('node:crypto').JsonWebKey, format: 'jwk' }),
          publicJwk: JSON.parse(record.publicJwk) as JWK,
        };
      }
      const publicJwk = known?.publicJwk ?? (JSON.parse(record.publicJwk) as JWK);
      loaded.push({
        kid: record.kid,
        alg: record.alg as SigningAlg,
        record,
        publicJwk,
        publicKey: known?.publicKey ?? createPublicKey({ key: publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' }),
        signing,
      });
    }
    this.keys = loaded.sort((a, b) => b.record.activatesAt - a.record.activatesAt || b.record.createdAt - a.record.createdAt);
  }

  /** Reloads, sharing one reload among concurrent callers. */
  refresh(): Promise<void> {
    this.reloading ??= this.reload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  /**
   * Reloads every `reloadIntervalMs` until the returned function is called; a failed reload keeps
   * the keys loaded so far and is passed to `onError`. The timer does not keep the process alive.
   */
  startAutoReload(onError: (error: unknown) => void = () => {}): () => void {
    const timer = setInterval(() => {
      this.refresh().catch(onError);
    }, this.reloadIntervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** The key to sign with now, for `alg` (default: the ring's default algorithm). Never a retired key. */
  active(now = Date.now(), alg: SigningAlg = this.defaultAlg): SigningKey {
    const record = signingRecordFor(
      this.keys.map((key) => key.record),
      alg,
      now,
    );
    const key = record === undefined ? undefined : this.keys.find((candidate) => candidate.kid === record.kid)?.signing;
    if (!key) throw new Error(`no ${alg} signing key loaded`);
    return key;
  }

  /** Creates a key for `alg` that signs from `activateAfterSeconds` on (rotateSigningKey), and loads it. */
  async rotate(alg: SigningAlg = this.defaultAlg, activateAfterSeconds = 0, now = Date.now()): Promise<SigningKeyRecord> {
    const record = await createRotatedKey(this.store, this.kek, alg, activateAfterSeconds, now);
    await this.refresh();
    return record;
  }

  /** Retires `kid` (retireSigningKey; by default the ring's algorithms keep an active key) and reloads. */
  async retire(kid: string, now = Date.now(), requiredAlgs: readonly SigningAlg[] = this.algs): Promise<SigningKeyRecord> {
    const record = await retireSigningKey(this.store, kid, { requiredAlgs, now });
    await this.refresh();
    return record;
  }

  /** Every loaded key with its state at `now`, newest activation first. */
  states(now = Date.now()): Array<{ record: SigningKeyRecord; state: KeyState }> {
    const records = this.keys.map((key) => key.record);
    const retention = this.retentionMs();
    return records.map((record) => ({ record, state: keyState(record, records, now, retention) }));
  }

  private retentionMs(): number {
    return retiredKeyRetentionMs(this.maxTokenLifetimeSeconds, this.reloadIntervalMs);
  }

  /** Encrypts a short secret for storage (compact JWE under the sealing key, deriveSealingKey). */
  async seal(text: string): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(text))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: SEALING_KEY_ID })
      .encrypt(await this.importedKey('sealing'));
  }

  async unseal(jwe: string): Promise<string> {
    // Sealed before the sealing key had its own derivation: under the signing-key KEK.
    const which = decodeProtectedHeader(jwe).kid === SEALING_KEY_ID ? 'sealing' : 'legacy';
    const { plaintext } = await compactDecrypt(jwe, await this.importedKey(which), { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
    return new TextDecoder().decode(plaintext);
  }

  private readonly importedKeys = new Map<'sealing' | 'legacy', Promise<CryptoKey>>();

  /**
   * The sealing key (or the legacy one) as a WebCrypto key, imported once: given raw bytes, jose
   * imports them again on every seal (every refresh), which cost more than the encryption
   * itself. Not extractable; used for A256GCM only.
   */
  private importedKey(which: 'sealing' | 'legacy'): Promise<CryptoKey> {
    let key = this.importedKeys.get(which);
    if (key === undefined) {
      const bytes = new Uint8Array(which === 'sealing' ? this.sealingKeyBytes : this.kek);
      key = crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, ['encrypt', 'decrypt']);
      this.importedKeys.set(which, key);
    }
    return key;
  }

  /**
   * RFC 7517 §5: the public keys, for /jwks: pending, active and previous keys, and retired keys
   * until every token they signed has expired.
   */
  jwks(now = Date.now()): { keys: JWK[] } {
    const records = this.keys.map((key) => key.record);
    const retention = this.retentionMs();
    return { keys: this.keys.filter((key) => keyState(key.record, records, now, retention) !== 'expired').map((key) => key.publicJwk) };
  }

  /** The public key with this `kid` among the loaded keys (retired ones included). */
  publicKeyFor(kid: string): KeyObject | undefined {
    return this.keys.find((candidate) => candidate.kid === kid)?.publicKey;
  }

  /**
   * publicKeyFor, reloading first when the `kid` is unknown: a key made by another instance or
   * the CLI since the last reload. At most one such reload per second.
   */
  async findPublicKey(kid: string): Promise<KeyObject | undefined> {
    const known = this.publicKeyFor(kid);
    if (known) return known;
    const now = Date.now();
    if (now - this.lastUnknownKidReload < UNKNOWN_KID_RELOAD_COOLDOWN_MS) return undefined;
    this.lastUnknownKidReload = now;
    await this.refresh();
    return this.publicKeyFor(kid);
  }
}
