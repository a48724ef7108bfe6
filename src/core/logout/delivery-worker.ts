/**
 * Delivers queued Logout Tokens, OpenID Connect Back-Channel Logout 1.0 §2.5: an HTTP POST of
 * `logout_token=<JWT>` (application/x-www-form-urlencoded) to the client's
 * `backchannel_logout_uri`. A 2xx answer (§2.8: "200 OK", some RPs answer 204) means delivered;
 * anything else, a timeout or a network error is a failed attempt, retried with exponential
 * backoff (initial delay, doubling, capped) until the delivery is accepted or the attempts or
 * the time allowed run out. Redirects are not followed (the registered URI is the endpoint).
 *
 * The request goes through src/core/outbound/safe-fetch.ts: the URI was chosen by whoever
 * registered the client, so it must not reach the server's own network (private, loopback,
 * link-local and metadata addresses are refused before connecting unless
 * `outbound_allow_private_addresses` is set), and the size and time of the answer are bounded.
 * What went wrong at the transport level (refused, timeout, connection refused or reset, ...)
 * is logged in detail, but recorded with the delivery as one uniform `TRANSPORT_FAILURE`, so
 * that the recorded outcome does not tell which ports of a host are open.
 *
 * The queue lives in the store, so a logout survives restarts, and several instances can run
 * workers on one database: an attempt starts by claiming the delivery with one conditional
 * UPDATE (`next_attempt_at = now + lease WHERE next_attempt_at <= now`), which exactly one
 * worker wins; the lease makes the delivery due again if that worker dies mid-attempt. The
 * outcome is written only while the claim still holds (the attempt counter is the version).
 */
import type { ProviderContext } from '../context.js';
import type { StoreLogger } from '../../store/open-store.js';
import type { LogoutDelivery, Store } from '../../store/store.js';
import { logoutTokenAlg } from './backchannel.js';
import { refreshLogoutToken } from './logout-token.js';
import { safeFetch } from '../outbound/safe-fetch.js';
import { OutboundRequestFailed } from '../errors.js';

/** What a delivery records for any failure without an HTTP status (the log has the reason). */
export const TRANSPORT_FAILURE = 'no usable HTTP response (see the server log)';

/** The logging the worker needs (the store's, without debug); a pino/Fastify logger satisfies it. */
export type WorkerLogger = Pick<StoreLogger, 'info' | 'warn' | 'error'>;

/**
 * What the worker uses: the queue, the client's registration (for the algorithm of a token
 * signed again) and the key ring that signs it, and the delivery settings.
 */
export type DeliveryWorkerDeps = Pick<ProviderContext, 'settings' | 'keys' | 'now'> & {
  store: Pick<Store, 'logoutDeliveries' | 'clients'>;
};

/**
 * One finished attempt, as an observer sees it (the flow inspector draws it as a back-channel
 * arrow, src/core/inspector/logout-delivery-step.ts). It carries the token as sent, which the
 * observer must never show or keep (only its short hash).
 */
export interface DeliveryAttempt {
  deliveryId: string;
  clientId: string;
  uri: string;
  /** 1 for the first attempt. */
  attempt: number;
  logoutToken: string;
  startedAt: number;
  durationMs: number;
  /** The HTTP status the endpoint answered, or null when there was no usable answer. */
  status: number | null;
  delivered: boolean;
  /** What happened, in detail (as logged): `HTTP 503`, `connection refused`, … */
  detail: string;
  /** When the next attempt is due; null once delivered or given up. */
  nextAttemptAt: number | null;
}

export interface DeliveryWorkerOptions {
  /** How often to look for due deliveries when nothing wakes the worker (default: 1 s, or the initial backoff if shorter). */
  pollIntervalMs?: number;
  /** Deliveries attempted per round. */
  batchSize?: number;
  /**
   * Told of every attempt whose outcome was recorded (the flow inspector, only while it is on;
   * without it nothing extra is done per attempt). It must not throw; it is not awaited.
   */
  onAttempt?: (attempt: DeliveryAttempt) => void;
}

/** The delay before the attempt after `failedAttempts` failures: initial × 2^(n-1), capped. */
export function retryDelayMs(
  failedAttempts: number,
  settings: Pick<ProviderContext['settings'], 'backchannelLogoutBackoffInitialMs' | 'backchannelLogoutBackoffMaxMs'>,
): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 40);
  return Math.min(settings.backchannelLogoutBackoffInitialMs * 2 ** exponent, settings.backchannelLogoutBackoffMaxMs);
}

interface AttemptResult {
  delivered: boolean;
  /** The HTTP status answered, or null. */
  status: number | null;
  /** For the log: `HTTP 200`, `HTTP 503`, `no complete response within 5000 ms`, `ECONNREFUSED`, ... */
  detail: string;
  /** For the delivery's record: the HTTP status, or TRANSPORT_FAILURE. */
  recorded: string;
  /** The worker was stopped during the attempt. */
  interrupted: boolean;
}

export class LogoutDeliveryWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private rerun = false;
  private stopController = new AbortController();
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly onAttempt: DeliveryWorkerOptions['onAttempt'];

  constructor(
    private readonly context: DeliveryWorkerDeps,
    private readonly logger: WorkerLogger,
    options: DeliveryWorkerOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? Math.min(1000, context.settings.backchannelLogoutBackoffInitialMs);
    this.batchSize = options.batchSize ?? 20;
    this.onAttempt = options.onAttempt;
  }

  /**
   * A claimed attempt holds the delivery this long: longer than one request may take, so a
   * live worker never loses its claim, short enough that a crashed worker's delivery is soon
   * picked up by another instance.
   */
  private get leaseMs(): number {
    return this.context.settings.backchannelLogoutTimeoutMs + 30_000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.stopController = new AbortController();
    this.schedule(0);
  }

  /** Looks for due deliveries now, e.g. right after a logout queued some. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.rerun = true;
    else this.schedule(0);
  }

  /** Stops polling, interrupts requests in flight (they are given back, uncounted) and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stopController.abort();
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), delayMs);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = null;
    if (this.stopped || this.running) return;
    this.running = this.runOnce()
      .then((full) => {
        if (full) this.rerun = true;
      })
      .catch((error: unknown) => this.logger.error({ err: error }, 'back-channel logout delivery round failed'))
      .finally(() => {
        this.running = null;
        const again = this.rerun;
        this.rerun = false;
        if (!this.stopped) this.schedule(again ? 0 : this.pollIntervalMs);
      });
  }

  /** Attempts each due delivery once. Returns true when the batch was full (more may be due). */
  async runOnce(): Promise<boolean> {
    const due = await this.context.store.logoutDeliveries.listDue(this.context.now(), this.batchSize);
    await Promise.all(due.map((delivery) => this.attempt(delivery.id)));
    return due.length === this.batchSize;
  }

  private async attempt(id: string): Promise<void> {
    const { store, settings, keys } = this.context;
    const now = this.context.now();
    const claimed = await store.logoutDeliveries.claim(id, now, now + this.leaseMs);
    if (!claimed) return; // another worker was faster, or it is no longer due
    const log = { deliveryId: claimed.id, clientId: claimed.clientId, uri: claimed.uri, attempt: claimed.attempts };

    let token = claimed.logoutToken;
    let result: AttemptResult;
    try {
      // A retry after the token's two minutes gets it signed again (same jti, same event).
      const client = await store.clients.get(claimed.clientId);
      token = await refreshLogoutToken(token, keys, client ? logoutTokenAlg(client, settings) : undefined, now);
      result = await this.post(claimed.uri, token);
    } catch (error) {
      result = {
        delivered: false,
        status: null,
        detail: `cannot send: ${(error as Error).message ?? String(error)}`,
        recorded: TRANSPORT_FAILURE,
        interrupted: false,
      };
    }

    const at = this.context.now();
    if (result.interrupted) {
      await store.logoutDeliveries.release(claimed.id, claimed.attempts, at);
      return;
    }
    let outcome: Parameters<typeof store.logoutDeliveries.finish>[2];
    if (result.delivered) {
      outcome = { deliveredAt: at, nextAttemptAt: null, lastError: claimed.lastError, logoutToken: token };
    } else {
      const delay = retryDelayMs(claimed.attempts, settings);
      const giveUp =
        claimed.attempts >= settings.backchannelLogoutMaxAttempts ||
        at + delay > claimed.createdAt + settings.backchannelLogoutMaxAgeSeconds * 1000;
      outcome = {
        deliveredAt: null,
        nextAttemptAt: giveUp ? null : at + delay,
        lastError: result.recorded,
        logoutToken: token,
      };
    }
    const recorded = await store.logoutDeliveries.finish(claimed.id, claimed.attempts, outcome);
    if (recorded)
      this.onAttempt?.({
        deliveryId: claimed.id,
        clientId: claimed.clientId,
        uri: claimed.uri,
        attempt: claimed.attempts,
        logoutToken: token,
        startedAt: now,
        durationMs: at - now,
        status: result.status,
        delivered: result.delivered,
        detail: result.detail,
        nextAttemptAt: outcome.nextAttemptAt,
      });
    if (!recorded) {
      this.logger.warn(
        { ...log, result: result.detail },
        'back-channel logout attempt outlived its claim; its outcome was not recorded',
      );
    } else if (result.delivered) {
      this.logger.info({ ...log, result: result.detail }, 'back-channel logout delivered');
    } else if (outcome.nextAttemptAt === null) {
      this.logger.error({ ...log, error: result.detail }, 'back-channel logout delivery failed; giving up');
    } else {
      this.logger.warn(
        { ...log, error: result.detail, retryAt: new Date(outcome.nextAttemptAt).toISOString() },
        'back-channel logout delivery failed; will retry',
      );
    }
  }

  private async post(uri: string, logoutToken: string): Promise<AttemptResult> {
    const { settings } = this.context;
    try {
      const response = await safeFetch(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: logoutToken }).toString(),
        timeoutMs: settings.backchannelLogoutTimeoutMs,
        maxResponseBytes: settings.outboundMaxResponseBytes,
        allowPrivateAddresses: settings.outboundAllowPrivateAddresses,
        signal: this.stopController.signal,
      });
      const detail = `HTTP ${response.status}`;
      return {
        delivered: response.status >= 200 && response.status < 300,
        status: response.status,
        detail,
        recorded: detail,
        interrupted: false,
      };
    } catch (error) {
      if (this.stopController.signal.aborted)
        return {
          delivered: false,
          status: null,
          detail: 'interrupted by shutdown',
          recorded: TRANSPORT_FAILURE,
          interrupted: true,
        };
      const detail =
        error instanceof OutboundRequestFailed
          ? error.message
          : `cannot send: ${(error as Error).message ?? String(error)}`;
      return { delivered: false, status: null, detail, recorded: TRANSPORT_FAILURE, interrupted: false };
    }
  }
}

/** The state of a delivery, for listings. */
export function deliveryStatus(delivery: LogoutDelivery): 'delivered' | 'pending' | 'retrying' | 'failed' {
  if (delivery.deliveredAt !== null) return 'delivered';
  if (delivery.nextAttemptAt === null) return 'failed';
  return delivery.attempts === 0 ? 'pending' : 'retrying';
}
