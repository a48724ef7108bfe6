/**
 * Brute-force limits: sign-in attempts per username and per client IP address, and failed
 * client authentications (token, revocation and introspection endpoints) per client_id and per
 * IP address. The counters live in the store, so every instance sharing the database enforces
 * the same limits.
 *
 * Each subject gets `free_attempts` attempts; after each further failure the next attempt must
 * wait `backoff_base_ms`, doubling every time (never longer than the lock); from `lock_after`
 * failures on, the subject is locked for `lock_seconds`. A counter without attempts for
 * `lock_seconds` is forgotten. A refused attempt is refused before any password or secret is
 * hashed (argon2id costs tens of milliseconds of CPU), and it is not counted.
 *
 * Sign-in attempts are counted before the password is checked (a conditional upsert that only
 * counts while the subject is not blocked), so a burst of parallel attempts gets no more
 * password checks than the limit allows; a success then forgets the username's counter and
 * takes back the IP address's attempt. Client authentication is the hot path of every token
 * request, so there a read decides, and only failures are counted (atomically).
 *
 * Starting an interaction (the sign-in pages of an authorization request) needs no credentials
 * but writes a row that lives interaction_ttl_seconds, so interactions are counted per IP
 * address too: each one started counts, each one finished (a code issued, or consent denied)
 * is taken back, so the counter holds the address's unfinished interactions.
 *
 * The username counter is keyed by what was typed, whether such a user exists or not, so a
 * limited answer tells nothing about the existence of an account.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { AttemptLimit, GatehouseSettings } from '../config/settings.js';
import type { RateLimitPolicy, RateLimitState } from '../store/store.js';
import type { ProviderContext } from './context.js';
import { OAuthError } from './errors.js';
import type { LimitScope } from './events.js';
import { sha256Base64Url } from './secrets.js';

export type { AttemptLimit } from '../config/settings.js';

/**
 * A request refused because its client (or IP address) failed to authenticate too often.
 *
 * Status 429 (RFC 6585 §4) with Retry-After. The token endpoint has no error code for this:
 * RFC 6749 §5.2 defines invalid_request, invalid_client, invalid_grant, unauthorized_client,
 * unsupported_grant_type and invalid_scope, none of which fits (invalid_client would tell a
 * client whose secret is right that it is wrong, and RFC 8628's `slow_down` belongs to the
 * device flow). `temporarily_unavailable` (RFC 6749 §4.1.2.1: "unable to handle the request due
 * to a temporary overloading or maintenance") says exactly what the client needs to know: the
 * request may be fine, retry later; libraries already treat it as retryable.
 */
export class TooManyAttempts extends OAuthError {
  readonly error = 'temporarily_unavailable';
  override readonly status = 429;
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed client authentication attempts; retry after ${retryAfterSeconds} seconds`);
  }
}

/** The store's policy for one limit. */
export function policyFor(limit: AttemptLimit): RateLimitPolicy {
  const lockMs = limit.lockSeconds * 1000;
  return {
    forgetAfterMs: lockMs,
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
  login_username: 'loginUsername',
  login_ip: 'loginIp',
  client_id: 'clientId',
  client_ip: 'clientIp',
  interaction_ip: 'interactionIp',
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
  const groups = ip.includes('::') ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups] : headGroups;
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
  subject: string;
  key: string;
  limit: AttemptLimit;
  policy: RateLimitPolicy;
}

function subjectOf(context: ProviderContext, scope: LimitScope, subject: string): Subject {
  const limit = context.settings.limits[LIMIT_SETTING[scope]];
  return { scope, subject, key: limitKey(scope, subject), limit, policy: policyFor(limit) };
}

/** Announces the failures that started a lock (exactly one per lock, even under concurrency). */
function announceLocks(context: ProviderContext, subjects: Subject[], states: RateLimitState[], flowId: string | null): void {
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

// --- sign-in ------------------------------------------------------------------------------------

export type LoginAttempt =
  | { limited: true; retryAfterSeconds: number }
  | { limited: false; finish(succeeded: boolean, flowId: string): Promise<void> };

/**
 * Counts one sign-in attempt for `username` and `ip` before the password is checked, or refuses
 * it (nothing counted) while either is blocked. `finish` records the outcome.
 */
export async function beginLoginAttempt(context: ProviderContext, username: string, ip: string): Promise<LoginAttempt> {
  const subjects = [subjectOf(context, 'login_username', username), subjectOf(context, 'login_ip', ipSubject(ip))];
  const now = context.now();
  const result = await context.store.rateLimits.hit(subjects.map(({ key, policy }) => ({ key, policy })), now, { unlessBlocked: true });
  if (!result.counted) return { limited: true, retryAfterSeconds: retryAfterSeconds(result.blockedUntil, now) };
  const [user, address] = subjects as [Subject, Subject];
  return {
    limited: false,
    async finish(succeeded, flowId) {
      if (!succeeded) return announceLocks(context, subjects, result.states, flowId);
      // A success ends the username's run of failures; the address keeps its other attempts.
      await context.store.rateLimits.reset(user.key);
      await context.store.rateLimits.release(address.key, address.policy, context.now());
    },
  };
}

// --- client authentication ----------------------------------------------------------------------

export interface ClientAuthLimits {
  /** Throws TooManyAttempts while the client or the address is blocked. */
  check(clientId: string): Promise<void>;
  /** Counts a failed authentication (`clientId` null when the request named no client). */
  failed(clientId: string | null): Promise<void>;
  /** Forgets the client's failures after a success (only when it had any). */
  succeeded(clientId: string): Promise<void>;
}

export function clientAuthLimits(context: ProviderContext, ip: string): ClientAuthLimits {
  const address = subjectOf(context, 'client_ip', ipSubject(ip));
  let clientHadFailures = false;
  return {
    async check(clientId) {
      const client = subjectOf(context, 'client_id', clientId);
      const now = context.now();
      const states = await context.store.rateLimits.get([client.key, address.key], now);
      clientHadFailures = states.some((state) => state.key === client.key && state.attempts > 0);
      const blockedUntil = Math.max(0, ...states.map((state) => state.blockedUntil));
      if (blockedUntil > now) throw new TooManyAttempts(retryAfterSeconds(blockedUntil, now));
    },
    async failed(clientId) {
      const subjects = clientId === null ? [address] : [subjectOf(context, 'client_id', clientId), address];
      const result = await context.store.rateLimits.hit(subjects.map(({ key, policy }) => ({ key, policy })), context.now(), { unlessBlocked: false });
      if (result.counted) announceLocks(context, subjects, result.states, null);
    },
    async succeeded(clientId) {
      if (clientHadFailures) await context.store.rateLimits.reset(subjectOf(context, 'client_id', clientId).key);
    },
  };
}

// --- interactions -------------------------------------------------------------------------------

/**
 * An authorization request refused because its address started too many interactions it did
 * not finish, or because the server holds as many unfinished ones as it may (`status` 503).
 * An error page, not a redirect: RFC 6749 §4.1.2.1's `temporarily_unavailable` would send a
 * flood's every request on to the client; 429 (RFC 6585 §4) or 503 (RFC 9110 §15.6.4) with
 * Retry-After tells the browser (and the flooding script) when to come back.
 */
export class TooManyInteractions extends Error {
  constructor(
    readonly status: 429 | 503,
    readonly retryAfterSeconds: number,
  ) {
    super(
      status === 429
        ? `Too many sign-in requests came from your network. Try again in ${retryAfterSeconds} seconds.`
        : 'The server is handling too many sign-in requests right now. Try again in a minute.',
    );
    this.name = 'TooManyInteractions';
  }
}

/** Counts one interaction started from `ip`, or throws TooManyInteractions (nothing counted) while the address is blocked. */
export async function countInteraction(context: ProviderContext, ip: string, flowId: string): Promise<void> {
  const address = subjectOf(context, 'interaction_ip', ipSubject(ip));
  const now = context.now();
  const result = await context.store.rateLimits.hit([{ key: address.key, policy: address.policy }], now, { unlessBlocked: true });
  if (!result.counted) throw new TooManyInteractions(429, retryAfterSeconds(result.blockedUntil, now));
  announceLocks(context, [address], result.states, flowId);
}

/** Takes back the interaction count of `ip` once one of its interactions finished. */
export async function interactionFinished(context: ProviderContext, ip: string): Promise<void> {
  const address = subjectOf(context, 'interaction_ip', ipSubject(ip));
  await context.store.rateLimits.release(address.key, address.policy, context.now());
}

/** How long the count of live interactions is reused before the store is asked again. */
const LIVE_COUNT_REFRESH_MS = 1000;
const liveCounts = new WeakMap<ProviderContext, { count: number; at: number; refreshing: Promise<void> | null }>();

/**
 * Throws TooManyInteractions (503) when the store holds settings.maxLiveInteractions unexpired
 * interactions. The count is asked at most once a second per instance, and interactions started
 * here since are added to it, so the table cannot grow far past the cap, also from many addresses.
 */
export async function checkLiveInteractions(context: ProviderContext): Promise<void> {
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
