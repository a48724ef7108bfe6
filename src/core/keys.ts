/**
 * Signing keys: generated at first start, stored in the database with the private part
 * encrypted at rest, shared by every instance that uses the same database and secret.
 *
 * Encryption at rest is a compact JWE (`dir`, `A256GCM`) made with jose, under a 256-bit key
 * derived from GATEHOUSE_SECRET with HKDF-SHA-256. Without the secret the stored keys are useless.
 */
import { hkdfSync, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';
import type { SigningKeyRecord, Store } from '../store/store.js';

export type SigningAlg = 'ES256' | 'EdDSA' | 'RS256';

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/** Derives the key-encryption key from the instance secret (RFC 5869 HKDF). */
export function deriveKeyEncryptionKey(secret: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, 'gatehouse', 'gatehouse signing-key encryption v1', 32));
}

export async function encryptPrivateJwk(jwk: JWK, kek: Uint8Array): Promise<string> {
  const plaintext = new TextEncoder().encode(JSON.stringify(jwk));
  return new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(kek);
}

export async function decryptPrivateJwk(jwe: string, kek: Uint8Array): Promise<JWK> {
  const { plaintext } = await compactDecrypt(jwe, kek, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
  return JSON.parse(new TextDecoder().decode(plaintext)) as JWK;
}

export async function createSigningKeyRecord(alg: SigningAlg, kek: Uint8Array, now: number): Promise<SigningKeyRecord> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
    ...(alg === 'RS256' ? { modulusLength: 2048 } : {}),
  });
  const privateJwk = await exportJWK(privateKey);
  const publicJwk = await exportJWK(publicKey);
  // RFC 7638 thumbprint: a stable, collision-free key id.
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    alg,
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
    privateJwkEncrypted: await encryptPrivateJwk(privateJwk, kek),
    createdAt: now,
    activatesAt: now,
    retiredAt: null,
  };
}

/**
 * The signing keys of this server, loaded from the store. The active key is the newest one
 * whose activation time has passed; every key not retired is published in the JWKS.
 */
export class KeyRing {
  private keys: Array<SigningKey & { record: SigningKeyRecord }> = [];

  private constructor(
    private readonly store: Store,
    private readonly kek: Uint8Array,
    /** The algorithm used when a caller names none. */
    readonly defaultAlg: SigningAlg,
  ) {}

  /**
   * Loads the keys, creating a key for each algorithm in `algs` that has none yet. The first
   * algorithm is the default one (access tokens, and ID tokens unless a client asks otherwise).
   */
  static async open(store: Store, secret: string, alg: SigningAlg, now = Date.now(), extraAlgs: SigningAlg[] = []): Promise<KeyRing> {
    const ring = new KeyRing(store, deriveKeyEncryptionKey(secret), alg);
    await ring.reload();
    for (const wanted of [alg, ...extraAlgs]) {
      if (!ring.keys.some((key) => key.alg === wanted)) {
        await store.signingKeys.create(await createSigningKeyRecord(wanted, ring.kek, now));
        await ring.reload();
      }
    }
    return ring;
  }

  async reload(): Promise<void> {
    const records = await this.store.signingKeys.list();
    const loaded = [];
    for (const record of records) {
      if (record.retiredAt !== null) continue;
      let privateJwk: JWK;
      try {
        privateJwk = await decryptPrivateJwk(record.privateJwkEncrypted, this.kek);
      } catch {
        throw new Error(
          `signing key ${record.kid} cannot be decrypted: GATEHOUSE_SECRET differs from the one the key was stored with`,
        );
      }
      loaded.push({
        kid: record.kid,
        alg: record.alg as SigningAlg,
        privateKey: createPrivateKey({ key: privateJwk as import('node:crypto').JsonWebKey, format: 'jwk' }),
        publicJwk: JSON.parse(record.publicJwk) as JWK,
        record,
      });
    }
    this.keys = loaded.sort((a, b) => b.record.activatesAt - a.record.activatesAt || b.record.createdAt - a.record.createdAt);
  }

  /** The key to sign with now, for `alg` (default: the ring's default algorithm). */
  active(now = Date.now(), alg: SigningAlg = this.defaultAlg): SigningKey {
    const candidates = this.keys.filter((candidate) => candidate.alg === alg);
    const key = candidates.find((candidate) => candidate.record.activatesAt <= now) ?? candidates[candidates.length - 1];
    if (!key) throw new Error(`no ${alg} signing key loaded`);
    return key;
  }

  /** Encrypts a short secret for storage (compact JWE under the instance key). */
  seal(text: string): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(text)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(this.kek);
  }

  async unseal(jwe: string): Promise<string> {
    const { plaintext } = await compactDecrypt(jwe, this.kek, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
    return new TextDecoder().decode(plaintext);
  }

  /** RFC 7517 §5: the public keys, for /jwks. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((key) => key.publicJwk) };
  }

  publicKeyFor(kid: string): KeyObject | undefined {
    const key = this.keys.find((candidate) => candidate.kid === kid);
    return key ? createPublicKey(key.privateKey) : undefined;
  }
}
