/**
 * The periodic cleanup of expired rows: what may go and when is decided by the store
 * (src/store/cleanup.ts); this module derives the retention times from the settings and runs it
 * every settings.cleanupIntervalSeconds on each instance. On PostgreSQL only one instance runs it
 * at a time (an advisory lock; the others skip that round); on SQLite concurrent runs are
 * harmless. `gatehouse cleanup` runs it by hand.
 */
import type { GatehouseSettings } from '../../config/settings.js';
import type { StoreLogger } from '../../store/open-store.js';
import type { CleanupCounts, CleanupPolicy, CleanupResult, Store } from '../../store/store.js';

/** Delivered or abandoned back-channel logout deliveries stay listed this long. */
export const LOGOUT_DELIVERY_RETENTION_MS = 7 * 24 * 3600 * 1000;
/** The sweep over grants leaves younger ones alone: their first code may still be on its way. */
export const GRANT_MIN_AGE_MS = 3600 * 1000;

type PolicySettings = Pick<
  GatehouseSettings,
  | 'accessTokenTtlSeconds'
  | 'refreshTokenAbsoluteTtlSeconds'
  | 'refreshTokenGraceSeconds'
  | 'cleanupBatchSize'
  | 'auditRetentionDays'
  | 'registration'
>;

export function cleanupPolicy(settings: PolicySettings, batchSize = settings.cleanupBatchSize): CleanupPolicy {
  return {
    // Tokens issued from a code are issued before it expires and live at most this long after.
    consumedCodeRetentionMs: Math.max(settings.accessTokenTtlSeconds, settings.refreshTokenAbsoluteTtlSeconds) * 1000,
    refreshTokenGraceMs: settings.refreshTokenGraceSeconds * 1000,
    logoutDeliveryRetentionMs: LOGOUT_DELIVERY_RETENTION_MS,
    grantMinAgeMs: GRANT_MIN_AGE_MS,
    batchSize,
    // 0 days: the audit trail is kept for ever.
    ...(settings.auditRetentionDays > 0 ? { auditRetentionMs: settings.auditRetentionDays * 24 * 3600 * 1000 } : {}),
    // 0 seconds: self-registered clients are never removed for being unused.
    ...(settings.registration.abandonedAfterSeconds > 0
      ? { abandonedClientMs: settings.registration.abandonedAfterSeconds * 1000 }
      : {}),
  };
}

export function totalDeleted(counts: CleanupCounts): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** The logging the worker needs (the store's, info and error only). */
export type CleanupLogger = Pick<StoreLogger, 'info' | 'error'>;

/** Runs the cleanup every `intervalMs` (a new run is scheduled when the previous one ended). */
export class CleanupWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;

  constructor(
    private readonly store: Pick<Store, 'cleanup'>,
    private readonly settings: PolicySettings & Pick<GatehouseSettings, 'cleanupIntervalSeconds'>,
    private readonly log: CleanupLogger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.settings.cleanupIntervalSeconds <= 0 || !this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => {});
  }

  /** One run now; failures are logged, never thrown. */
  async runOnce(): Promise<CleanupResult | undefined> {
    const run = this.store.cleanup.run(this.now(), cleanupPolicy(this.settings), { wait: false });
    this.running = run;
    try {
      const result = await run;
      if (result.status === 'done' && totalDeleted(result.deleted) > 0)
        this.log.info({ deleted: result.deleted }, 'expired rows removed');
      return result;
    } catch (error) {
      this.log.error({ err: error }, 'cleanup of expired rows failed');
      return undefined;
    } finally {
      this.running = undefined;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce().finally(() => this.schedule());
    }, this.settings.cleanupIntervalSeconds * 1000);
    this.timer.unref();
  }
}
