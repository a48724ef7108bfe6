/**
 * Signing keys: generated at first start, stored in the database with the private part
 * encrypted at rest (./signing-key-crypto.ts), shared by every instance that uses the same
 * database and secret, rotated and retired as ./key-lifecycle.ts describes.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { compactDecrypt, decodeProtectedHeader, type JWK } from 'jose';
import { sealCompactJwe } from './jwe-sealer.js';
import { DEFAULT_SETTINGS } from '../../config/settings.js';
import type { SigningKeyRecord, Store } from '../../store/store.js';
import {
  KEY_RELOAD_INTERVAL_MS,
  createRotatedKey,
  isRetired,
  keyState,
  retireSigningKey,
  retiredKeyRetentionMs,
  signingRecordFor,
  type KeyState,
} from './key-lifecycle.js';
import {
  SEALING_KEY_ID,
  createSigningKeyRecord,
  decryptPrivateJwk,
  deriveKeyEncryptionKey,
  deriveSealingKey,
  type SigningAlg,
  type SigningKey,
} from './signing-key-crypto.js';

/** Minimum time between reloads caused by an unknown `kid`, so that made-up kids cannot flood the database. */
const UNKNOWN_KID_RELOAD_COOLDOWN_MS = 1_000;

export interface KeyRingOptions {
  /** The longest lifetime of a token the ring signs, in seconds (default: the default access token lifetime, 1 h). */
  maxTokenLifetimeSeconds?: number;
  /** How often `startAutoReload` reloads the keys (default KEY_RELOAD_INTERVAL_MS). */
  reloadIntervalMs?: number;
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
    private readonly store: Pick<Store, 'signingKeys'>,
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
    store: Pick<Store, 'signingKeys'>,
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
        publicKey:
          known?.publicKey ?? createPublicKey({ key: publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' }),
        signing,
      });
    }
    this.keys = loaded.sort(
      (a, b) => b.record.activatesAt - a.record.activatesAt || b.record.createdAt - a.record.createdAt,
    );
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
  async rotate(
    alg: SigningAlg = this.defaultAlg,
    activateAfterSeconds = 0,
    now = Date.now(),
  ): Promise<SigningKeyRecord> {
    const record = await createRotatedKey(this.store, this.kek, alg, activateAfterSeconds, now);
    await this.refresh();
    return record;
  }

  /** Retires `kid` (retireSigningKey; by default the ring's algorithms keep an active key) and reloads. */
  async retire(
    kid: string,
    now = Date.now(),
    requiredAlgs: readonly SigningAlg[] = this.algs,
  ): Promise<SigningKeyRecord> {
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

  /**
   * Encrypts a short secret for storage (compact JWE under the sealing key, deriveSealingKey),
   * synchronously (./jwe-sealer.ts); unseal opens it with jose.
   */
  seal(text: string): string {
    this.sealingKeyObject ??= createSecretKey(this.sealingKeyBytes);
    return sealCompactJwe(text, this.sealingKeyObject, SEALING_KEY_ID);
  }

  private sealingKeyObject: KeyObject | undefined;

  async unseal(jwe: string): Promise<string> {
    // Sealed before the sealing key had its own derivation: under the signing-key KEK.
    const which = decodeProtectedHeader(jwe).kid === SEALING_KEY_ID ? 'sealing' : 'legacy';
    const { plaintext } = await compactDecrypt(jwe, await this.importedKey(which), {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
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
    return {
      keys: this.keys
        .filter((key) => keyState(key.record, records, now, retention) !== 'expired')
        .map((key) => key.publicJwk),
    };
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
