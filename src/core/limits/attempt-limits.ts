/**
 * Brute-force limits: sign-in attempts and failed client authentications (token, revocation and
 * introspection endpoints). The counters live in the store, so every instance sharing the
 * database enforces the same limits.
 *
 * Each subject gets `free_attempts` attempts; after each further failure the next attempt must
 * wait `backoff_base_ms`, doubling every time (never longer than the lock); from `lock_after`
 * failures on, the subject is locked for `lock_seconds`. A counter without attempts for twice
 * `lock_seconds` is forgotten: waiting out the longest delay (or a lock) does not start it over,
 * which a limit of delays only (login_username) depends on. A refused attempt is refused before any password or secret is
 * hashed (argon2id costs tens of milliseconds of CPU), and it is not counted.
 *
 * What is counted follows the OWASP Authentication Cheat Sheet ("Protect Against Automated
 * Attacks": a lock per account alone lets anyone lock any account) and OWASP "Slow Down Online
 * Guessing Attacks with Device Cookies":
 * - sign-in from a browser without a device cookie for the username: per (username, address),
 *   per address, and per username over all addresses (by default only delays of at most 60 s,
 *   never a lock, against guessing spread over many addresses);
 * - sign-in from a browser with a valid device cookie for the username (it signed that user in
 *   before): only that device cookie's own failures count, so no one else can keep the user out;
 * - client authentication: per (client_id, address) and per address, since a client_id is public
 *   (RFC 6749 §2.2). A generated secret is a SHA-256 comparison and is always checked, so the
 *   right one is never refused; only argon2id secrets (chosen by a person) are refused before
 *   hashing while blocked.
 *
 * Sign-in attempts are counted before the password is checked (a conditional upsert that only
 * counts while no subject is blocked), so a burst of parallel attempts gets no more password
 * checks than the limit allows; a success then forgets the username's counters and takes back
 * the address's attempt. Client authentication is the hot path of every token request, so there
 * a read decides, and only failures are counted (atomically).
 *
 * Starting an interaction (the sign-in pages of an authorization request) needs no credentials
 * but writes a row that lives interaction_ttl_seconds, so interactions are counted per IP
 * address too: each one started counts, each one finished (a code issued, or consent denied)
 * is taken back, so the counter holds the address's unfinished interactions.
 *
 * The username counters are keyed by what was typed, whether such a user exists or not, so a
 * limited answer tells nothing about the existence of an account.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { AttemptLimit, GatehouseSettings } from '../../config/settings.js';
import type { RateLimitPolicy, RateLimitState, Store } from '../../store/store.js';
import type { ProviderContext } from '../context.js';
import { TooManyAttempts, TooManyInteractions } from '../errors.js';
import type { LimitScope } from '../events.js';
import { randomToken, safeEqual, secretHmac, sha256Base64Url } from '../secrets.js';

export type { AttemptLimit } from '../../config/settings.js';

/** What counting attempts uses: the limits' settings, the store's counters, and the events that announce a lock. */
export type AttemptLimitDeps = Pick<ProviderContext, 'settings' | 'events' | 'now'> & {
  store: Pick<Store, 'rateLimits'>;
};

/** The store's policy for one limit. */
export function policyFor(limit: AttemptLimit): RateLimitPolicy {
  const lockMs = limit.lockSeconds * 1000;
  return {
    forgetAfterMs: 2 * lockMs,
    blockMs: (attempts) => {
      if (attempts >= limit.lockAfter) return lockMs;
      if (attempts <= limit.freeAttempts) return 0;
      const doublings = attempts - limit.freeAttempts - 1;
      // 2^40 times any base is past every lock; avoids overflowing to Infinity.
      return doublings >= 40 ? lockMs : Math.min(limit.backoffBaseMs * 2 ** doublings, lockMs);
    },
  };
}

const LIMIT_SETTING: Record<LimitScope, keyof GatehouseSettings['limits']> = {
  login_user_address: 'loginUserAddress',
  login_username: 'loginUsername',
  login_ip: 'loginIp',
  login_device: 'loginDevice',
  client_id: 'clientId',
  client_ip: 'clientIp',
  interaction_ip: 'interactionIp',
  user_code_ip: 'userCodeIp',
  user_code_global: 'userCodeGlobal',
  registration_ip: 'registrationIp',
};

/** The counter key of a subject: readable, except long subjects (a pasted novel as username). */
export function limitKey(scope: LimitScope, subject: string): string {
  return `${scope}:${subject.length <= 128 ? subject : `sha256:${sha256Base64Url(subject)}`}`;
}

/**
 * The address whose attempts are counted together: an IPv4 address (also IPv4-mapped IPv6), or
 * the /64 prefix of an IPv6 address (one subscriber usually gets a whole /64).
 */
export function ipSubject(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::')
    ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((group) => (parseInt(group, 16) || 0).toString(16))
    .join(':')}::/64`;
}

/** Seconds until `blockedUntil` for a Retry-After header (RFC 9110 §10.2.3): at least 1. */
export function retryAfterSeconds(blockedUntil: number, now: number): number {
  return Math.max(1, Math.ceil((blockedUntil - now) / 1000));
}

interface Subject {
  scope: LimitScope;
  /** What a lock event names (the username or client_id of a per-address pair). */
  subject: string;
  key: string;
  limit: AttemptLimit;
  policy: RateLimitPolicy;
}

/** `address`: for the pairs (username, address) and (client_id, address), part of the key. */
function subjectOf(
  context: Pick<ProviderContext, 'settings'>,
  scope: LimitScope,
  subject: string,
  address?: string,
): Subject {
  const limit = context.settings.limits[LIMIT_SETTING[scope]];
  const key =
    address === undefined
      ? limitKey(scope, subject)
      : `${limitKey(scope, address)} ${limitKey(scope, subject).slice(scope.length + 1)}`;
  return { scope, subject, key, limit, policy: policyFor(limit) };
}

/** Announces the failures that started a lock (exactly one per lock, even under concurrency). */
function announceLocks(
  context: Pick<ProviderContext, 'events'>,
  subjects: Subject[],
  states: RateLimitState[],
  flowId: string | null,
): void {
  subjects.forEach((subject, index) => {
    const state = states[index];
    if (state && state.attempts === subject.limit.lockAfter) {
      context.events.emit({
        type: 'rate_limit.locked',
        flowId,
        scope: subject.scope,
        subject: subject.subject,
        attempts: state.attempts,
        until: state.blockedUntil,
      });
    }
  });
}

/**
 * Counts one attempt of every subject before it is checked, or refuses it (nothing counted) while
 * any of them is blocked. `finish` announces the locks a failure started, or runs `succeeded`.
 */
async function beginAttempt(
  context: AttemptLimitDeps,
  subjects: Subject[],
  succeeded: () => Promise<void>,
): Promise<LoginAttempt> {
  const now = context.now();
  const result = await context.store.rateLimits.hit(
    subjects.map(({ key, policy }) => ({ key, policy })),
    now,
    { unlessBlocked: true },
  );
  if (!result.counted) return { limited: true, retryAfterSeconds: retryAfterSeconds(result.blockedUntil, now) };
  return {
    limited: false,
    async finish(ok, flowId) {
      if (!ok) return announceLocks(context, subjects, result.states, flowId);
      await succeeded();
    },
  };
}

// --- sign-in ------------------------------------------------------------------------------------

/** A random nonce (22 characters) and the HMAC of nonce and username (43): base64url only. */
const DEVICE_NONCE_LENGTH = 22;
function deviceSignature(context: Pick<ProviderContext, 'settings'>, nonce: string, username: string): string {
  return secretHmac(context.settings.secret, 'gatehouse device cookie v1', `${nonce}\0${username}`);
}

/**
 * OWASP "Slow Down Online Guessing Attacks with Device Cookies": the value of the device cookie
 * set after `username` signed in, bound to that username by an HMAC. Nothing is stored; the
 * nonce makes every device cookie a counter of its own.
 */
export function issueDeviceCookie(context: Pick<ProviderContext, 'settings'>, username: string): string {
  const nonce = randomToken(16);
  return nonce + deviceSignature(context, nonce, username);
}

/** The nonce of a device cookie that was issued when `username` signed in, else undefined. */
function deviceNonceFor(
  context: Pick<ProviderContext, 'settings'>,
  cookie: string | undefined,
  username: string,
): string | undefined {
  if (cookie === undefined || cookie.length !== DEVICE_NONCE_LENGTH + 43) return undefined;
  const nonce = cookie.slice(0, DEVICE_NONCE_LENGTH);
  return safeEqual(cookie.slice(DEVICE_NONCE_LENGTH), deviceSignature(context, nonce, username)) ? nonce : undefined;
}

export type LoginAttempt =
  | { limited: true; retryAfterSeconds: number }
  | { limited: false; finish(succeeded: boolean, flowId: string | null): Promise<void> };

/**
 * Counts one sign-in attempt before the password is checked, or refuses it (nothing counted)
 * while a counter it belongs to is blocked. With a valid device cookie for `username`
 * (`deviceCookie`) only that device's counter applies; otherwise the counters of (username,
 * address), address and username. `finish` records the outcome.
 */
export async function beginLoginAttempt(
  context: AttemptLimitDeps,
  username: string,
  ip: string,
  deviceCookie?: string,
): Promise<LoginAttempt> {
  const address = ipSubject(ip);
  const nonce = deviceNonceFor(context, deviceCookie, username);
  const subjects =
    nonce !== undefined
      ? [subjectOf(context, 'login_device', `sha256:${sha256Base64Url(nonce)}`)]
      : [
          subjectOf(context, 'login_user_address', username, address),
          subjectOf(context, 'login_username', username),
          subjectOf(context, 'login_ip', address),
        ];
  // A success ends the username's and the device's runs of failures; the address keeps its
  // other attempts (other usernames behind the same NAT).
  return beginAttempt(context, subjects, async () => {
    for (const subject of subjects) {
      if (subject.scope === 'login_ip')
        await context.store.rateLimits.release(subject.key, subject.policy, context.now());
      else await context.store.rateLimits.reset(subject.key);
    }
    if (nonce !== undefined) await context.store.rateLimits.reset(subjectOf(context, 'login_username', username).key);
  });
}

// --- client authentication ----------------------------------------------------------------------

export interface ClientAuthLimits {
  /** Throws TooManyAttempts while the (client, address) pair or the address is blocked. */
  check(clientId: string): Promise<void>;
  /** Counts a failed authentication (`clientId` null when the request named no client). */
  failed(clientId: string | null): Promise<void>;
  /** Forgets the pair's failures after a success (only when check() found any). */
  succeeded(clientId: string): Promise<void>;
}

export function clientAuthLimits(context: AttemptLimitDeps, ip: string): ClientAuthLimits {
  const addressSubject = ipSubject(ip);
  const address = subjectOf(context, 'client_ip', addressSubject);
  const pair = (clientId: string) => subjectOf(context, 'client_id', clientId, addressSubject);
  // A generated secret skips check(): its counter never refuses it, so it need not be forgotten.
  let clientHadFailures = false;
  return {
    async check(clientId) {
      const client = pair(clientId);
      const now = context.now();
      const states = await context.store.rateLimits.get([client.key, address.key], now);
      clientHadFailures = states.some((state) => state.key === client.key && state.attempts > 0);
      const blockedUntil = Math.max(0, ...states.map((state) => state.blockedUntil));
      if (blockedUntil > now) throw new TooManyAttempts(retryAfterSeconds(blockedUntil, now));
    },
    async failed(clientId) {
      const subjects = clientId === null ? [address] : [pair(clientId), address];
      const result = await context.store.rateLimits.hit(
        subjects.map(({ key, policy }) => ({ key, policy })),
        context.now(),
        { unlessBlocked: false },
      );
      if (result.counted) announceLocks(context, subjects, result.states, null);
    },
    async succeeded(clientId) {
      if (clientHadFailures) await context.store.rateLimits.reset(pair(clientId).key);
    },
  };
}

// --- user codes (RFC 8628 §5.1) ------------------------------------------------------------------

/** `finish(true)` when the code matched a device authorization. */
export type UserCodeAttempt = LoginAttempt;

/**
 * RFC 8628 §5.1: "the authorization server should rate-limit user code attempts". Counts one
 * user code entered at the verification page, per address and over all addresses, before it is
 * looked up, or refuses it (nothing counted) while either counter is blocked. `finish` takes the
 * attempt back when the code matched a device authorization, so only misses add up.
 */
export async function beginUserCodeAttempt(context: AttemptLimitDeps, ip: string): Promise<UserCodeAttempt> {
  const subjects = [subjectOf(context, 'user_code_ip', ipSubject(ip)), subjectOf(context, 'user_code_global', 'all')];
  return beginAttempt(context, subjects, async () => {
    for (const subject of subjects) await context.store.rateLimits.release(subject.key, subject.policy, context.now());
  });
}

// --- interactions -------------------------------------------------------------------------------

/**
 * Counts one event of `scope` from the address of `ip`, unless it is blocked: then nothing is
 * counted and the seconds until it may come back are returned.
 */
async function countFromAddress(
  context: AttemptLimitDeps,
  scope: 'interaction_ip' | 'registration_ip',
  ip: string,
  flowId: string | null,
): Promise<number | undefined> {
  const address = subjectOf(context, scope, ipSubject(ip));
  const now = context.now();
  const result = await context.store.rateLimits.hit([{ key: address.key, policy: address.policy }], now, {
    unlessBlocked: true,
  });
  if (!result.counted) return retryAfterSeconds(result.blockedUntil, now);
  announceLocks(context, [address], result.states, flowId);
  return undefined;
}

/** Counts one interaction started from `ip`, or throws TooManyInteractions (nothing counted) while the address is blocked. */
export async function countInteraction(context: AttemptLimitDeps, ip: string, flowId: string): Promise<void> {
  const retryAfter = await countFromAddress(context, 'interaction_ip', ip, flowId);
  if (retryAfter !== undefined) throw new TooManyInteractions(429, retryAfter);
}

/**
 * RFC 7591 §3 (open registration): counts one client registration from `ip`, or throws
 * TooManyAttempts (429, nothing counted) while the address is blocked (limits.registration_ip).
 * Every registration counts, successful or not: each successful one writes a client.
 */
export async function countRegistration(context: AttemptLimitDeps, ip: string): Promise<void> {
  const retryAfter = await countFromAddress(context, 'registration_ip', ip, null);
  if (retryAfter !== undefined) throw new TooManyAttempts(retryAfter, 'client registrations from this address');
}

/** Takes back the interaction count of `ip` once one of its interactions finished. */
export async function interactionFinished(context: Omit<AttemptLimitDeps, 'events'>, ip: string): Promise<void> {
  const address = subjectOf(context, 'interaction_ip', ipSubject(ip));
  await context.store.rateLimits.release(address.key, address.policy, context.now());
}

/** What the bound on live interactions uses: the store's count of them, cached per instance (keyed by this object). */
export type LiveInteractionsDeps = Pick<ProviderContext, 'settings' | 'now'> & { store: Pick<Store, 'interactions'> };

/** How long the count of live interactions is reused before the store is asked again. */
const LIVE_COUNT_REFRESH_MS = 1000;
const liveCounts = new WeakMap<LiveInteractionsDeps, { count: number; at: number; refreshing: Promise<void> | null }>();

/**
 * Throws TooManyInteractions (503) when the store holds settings.maxLiveInteractions unexpired
 * interactions. The count is asked at most once a second per instance, and interactions started
 * here since are added to it, so the table cannot grow far past the cap, also from many addresses.
 */
export async function checkLiveInteractions(context: LiveInteractionsDeps): Promise<void> {
  const max = context.settings.maxLiveInteractions;
  let cached = liveCounts.get(context);
  if (!cached) {
    cached = { count: 0, at: -Infinity, refreshing: null };
    liveCounts.set(context, cached);
  }
  const entry = cached;
  if (context.now() - entry.at >= LIVE_COUNT_REFRESH_MS) {
    entry.refreshing ??= (async () => {
      try {
        const now = context.now();
        entry.count = await context.store.interactions.countLive(now, max);
        entry.at = now;
      } finally {
        entry.refreshing = null;
      }
    })();
    await entry.refreshing;
  }
  if (entry.count >= max) throw new TooManyInteractions(503, 60);
  entry.count++;
}
