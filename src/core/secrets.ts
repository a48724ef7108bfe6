/**
 * Random tokens and the hashes Gatehouse stores instead of them.
 *
 * Codes, session ids and generated client secrets carry 256 bits from the CSPRNG, so a single
 * SHA-256 is a sufficient one-way function for storing them (no salt or stretching needed for
 * high-entropy values; stretching is for guessable secrets). Client secrets chosen by a person
 * (config-file fixtures) may be guessable, so those are stored as argon2id instead.
 */
import { createHmac, hash, hkdfSync, randomFillSync, timingSafeEqual } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify, Algorithm } from '@node-rs/argon2';

/**
 * CSPRNG output is drawn in blocks: one randomFillSync call per 4 KiB instead of one per token
 * (each call costs several microseconds, and a code flow draws half a dozen tokens; Node's own
 * randomUUID buffers the same way). Each byte is handed out once, then the block is refilled.
 */
const RANDOM_POOL_BYTES = 4096;
const randomPool = Buffer.allocUnsafeSlow(RANDOM_POOL_BYTES);
let randomPoolOffset = RANDOM_POOL_BYTES;

/** A URL-safe random token with `bytes` bytes of entropy (default 32 = 256 bits). */
export function randomToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes <= 0 || bytes > RANDOM_POOL_BYTES)
    throw new RangeError(`randomToken: ${bytes} bytes is not in 1..${RANDOM_POOL_BYTES}`);
  if (randomPoolOffset + bytes > RANDOM_POOL_BYTES) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const token = randomPool.toString('base64url', randomPoolOffset, randomPoolOffset + bytes);
  randomPoolOffset += bytes;
  return token;
}

/**
 * A random identifier that people type on a command line (a client_id, a registration token id):
 * like randomToken, but never starting with `-` or `_`, so that `gatehouse clients delete ID`
 * cannot read it as an option (base64url starts with `-` once in 64 draws).
 */
export function randomIdentifier(bytes = 16): string {
  for (;;) {
    const id = randomToken(bytes);
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

/**
 * A random identifier that starts with the current time (12 hex digits of milliseconds), for
 * the rows the hot path writes by the thousand: grants, access tokens' records, sessions' `sid`.
 * Ids made one after another then sort one after another, so their rows (and every index on
 * them, such as the tokens' `grant_id`) are appended at the right edge of their B-trees, and the
 * writes of one group commit (src/store/group-commit.ts) share those pages instead of each
 * landing on a random leaf: every page a commit writes costs ~15 µs (bench/pages.ts). The time
 * is only for locality and never read back (a clock set back costs locality, not correctness);
 * the random part keeps `bytes` bytes of entropy, so such an id is as hard to guess as
 * randomToken's. It never starts with `-` (see randomIdentifier).
 */
export function sortableId(bytes = 16): string {
  return `${Date.now().toString(16).padStart(12, '0')}${randomToken(bytes)}`;
}

/**
 * An authorization code or refresh token: 256 bits from the CSPRNG after the time, as sortableId
 * makes it (12 hex digits of milliseconds, then 43 base64url characters). The time is not secret
 * (the token's issue time is in every answer anyway) and adds nothing to guess; it makes the key
 * the token is stored under (storedTokenKey) sort by issue time.
 */
export function timeOrderedToken(): string {
  return sortableId(32);
}

/** A token timeOrderedToken made: the time, then 32 random bytes in base64url. */
const TIME_ORDERED_TOKEN = /^[0-9a-f]{12}[A-Za-z0-9_-]{43}$/;
const TIME_PREFIX_LENGTH = 12;

/**
 * The key an authorization code or refresh token is stored under (never the token itself, so a
 * copy of the database gives no usable token): for a token of timeOrderedToken, its time prefix
 * followed by the SHA-256 of the whole token; for any other value (a token issued before tokens
 * carried the time, or anything a client sends), the SHA-256 alone. The two kinds never collide
 * (55 characters against 43).
 *
 * Why the prefix: a random key puts every new row's entry on a random leaf of the key's B-tree,
 * so each code issued or refresh token stored wrote a page of its own to the WAL (~15 µs each,
 * bench/pages.ts); keys in issue order are appended at the B-tree's right edge, and the writes of
 * one group commit (src/store/group-commit.ts) share that page.
 */
export function storedTokenKey(token: string): string {
  return token.length === TIME_PREFIX_LENGTH + 43 && TIME_ORDERED_TOKEN.test(token)
    ? `${token.slice(0, TIME_PREFIX_LENGTH)}${sha256Base64Url(token)}`
    : sha256Base64Url(token);
}

export function sha256Base64Url(value: string): string {
  // crypto.hash: one call, no Hash object (half the time of createHash().update().digest()).
  return hash('sha256', value, 'base64url');
}

/** Prefix marking a stored SHA-256 hash of a generated, high-entropy secret. */
const SHA256_PREFIX = 'sha256$';

/** Bytes of a client secret Gatehouse generates. */
export const GENERATED_SECRET_BYTES = 32;

// OWASP's argon2id baseline (m=19 MiB, t=2, p=1).
const ARGON2_OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2Hash(password, ARGON2_OPTIONS);
}

let passwordVerifications = 0;

/** How many argon2id verifications (passwords and client secrets) ran in this process (for tests and metrics). */
export function passwordVerificationCount(): number {
  return passwordVerifications;
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  passwordVerifications++;
  try {
    return await argon2Verify(passwordHash, password);
  } catch {
    return false;
  }
}

/**
 * A hash computed once at start with the same parameters as real password hashes, used to
 * verify against when the user does not exist, so that an unknown user and a wrong password
 * take about the same time.
 */
let dummyPasswordHash: Promise<string> | undefined;
export function dummyPasswordHashFor(): Promise<string> {
  dummyPasswordHash ??= hashPassword(randomToken());
  return dummyPasswordHash;
}

/** Stores a client secret: SHA-256 when we generated it, argon2id when a person chose it. */
export async function hashClientSecret(secret: string, generated: boolean): Promise<string> {
  if (generated) return SHA256_PREFIX + sha256Base64Url(secret);
  return hashPassword(secret);
}

/**
 * Successful argon2id verifications of client secrets, keyed by the stored hash and the SHA-256
 * of the presented secret. A client whose secret a person chose (config file) would otherwise
 * pay a full argon2id (tens of milliseconds of CPU) on every token request. Keying by the
 * stored hash means a changed secret never matches an old entry; only successes are cached, so
 * a wrong secret is always checked in full. Bounded; the oldest entry goes first.
 */
const verifiedSecrets = new Set<string>();
const VERIFIED_SECRETS_MAX = 1024;

let clientSecretArgon2Checks = 0;

/** How many client-secret checks ran argon2id in this process (for tests and metrics). */
export function clientSecretArgon2CheckCount(): number {
  return clientSecretArgon2Checks;
}

/** Whether a stored client secret hash is the SHA-256 of a generated secret (cheap to check). */
export function isGeneratedSecretHash(storedHash: string | null): boolean {
  return storedHash !== null && storedHash.startsWith(SHA256_PREFIX);
}

export async function verifyClientSecret(storedHash: string, presented: string): Promise<boolean> {
  const presentedDigest = sha256Base64Url(presented);
  if (storedHash.startsWith(SHA256_PREFIX)) {
    const expected = Buffer.from(storedHash.slice(SHA256_PREFIX.length));
    const actual = Buffer.from(presentedDigest);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
  const cacheKey = `${storedHash}\u0000${presentedDigest}`;
  if (verifiedSecrets.has(cacheKey)) return true;
  clientSecretArgon2Checks++;
  const ok = await verifyPassword(storedHash, presented);
  if (ok) {
    if (verifiedSecrets.size >= VERIFIED_SECRETS_MAX) verifiedSecrets.delete(verifiedSecrets.values().next().value!);
    verifiedSecrets.add(cacheKey);
  }
  return ok;
}

/** Constant-time comparison of two strings. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * A 256-bit key derived from the instance secret (GATEHOUSE_SECRET) for one purpose: RFC 5869
 * HKDF-SHA-256 with the purpose as its `info` (§3.2: one derived key per purpose), so that no
 * two purposes share a key. A purpose's `info` never changes: the keys derived before must stay.
 */
export function deriveSecretKey(secret: string, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, 'gatehouse', purpose, 32));
}

/** HMAC keys by purpose and secret (deriving one costs more than the HMAC it keys). */
const hmacKeys = new Map<string, Uint8Array>();

/** The HMAC-SHA-256 (base64url) of `message` under the key deriveSecretKey gives `purpose`. */
export function secretHmac(secret: string, purpose: string, message: string): string {
  const id = `${purpose}\u0000${secret}`;
  let key = hmacKeys.get(id);
  if (!key) {
    key = deriveSecretKey(secret, purpose);
    hmacKeys.set(id, key);
  }
  return createHmac('sha256', key).update(message).digest('base64url');
}
