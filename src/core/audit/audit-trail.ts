/**
 * The audit trail: security-relevant events, kept in the database for `gatehouse audit`.
 *
 * It subscribes to the EventBus like every other observer. Writing is off the request's
 * critical path: events are buffered and inserted in batches (one multi-row INSERT) when the
 * batch is full or after a short interval, whichever comes first. The buffer is bounded: when
 * the database is unreachable for long, the oldest events are dropped (and counted) rather than
 * growing without limit. `close()` writes what is left; the server calls it on shutdown, after
 * the in-flight requests have finished.
 *
 * Events never carry passwords, client secrets, codes or tokens (only identifiers such as a
 * token's `jti`), so neither does the trail.
 */
import type { AuditEvent, Store } from '../../store/store.js';
import type { EventBus, GatehouseEventType, TimedEvent } from '../events.js';

/** The event types recorded in the audit trail. */
export const AUDITED_EVENT_TYPES = [
  'login.succeeded',
  'login.failed',
  'consent.granted',
  'consent.denied',
  'consent.revoked',
  'authorization.refused',
  'code.issued',
  'code.refused',
  'token.issued',
  'token.refused',
  'token.revoked',
  'refresh.reused',
  'code.replayed',
  'logout.succeeded',
  'client.created',
  'client.updated',
  'client.deleted',
  'client_metadata_document.failed',
  'user.created',
  'user.updated',
  'user.deleted',
  'key.rotated',
  'key.retired',
  'client.secret_rotated',
  'resource.created',
  'resource.updated',
  'resource.deleted',
  'grant.revoked',
  'refresh_family.revoked',
  'session.revoked',
  'registration_token.created',
  'registration_token.revoked',
  'rate_limit.locked',
] as const satisfies readonly GatehouseEventType[];

const AUDITED = new Set<string>(AUDITED_EVENT_TYPES);

export interface AuditTrailOptions {
  /** Longest time an event waits in the buffer (default 1000 ms). */
  flushIntervalMs?: number;
  /** Events per INSERT; a full batch is written at once (default 200). */
  batchSize?: number;
  /** Most events kept while the database does not answer; the oldest go first (default 10000). */
  maxBuffered?: number;
}

/** The columns an event fills; everything else goes into `details`. */
function toAuditEvent(event: TimedEvent): AuditEvent | undefined {
  if (!AUDITED.has(event.type)) return undefined;
  const { type, at, ...rest } = event as TimedEvent & Record<string, unknown>;
  const take = (name: string): string | null => {
    const value = rest[name];
    delete rest[name];
    return typeof value === 'string' ? value : null;
  };
  const entry: AuditEvent = {
    at,
    type,
    flowId: take('flowId'),
    clientId: take('clientId'),
    userId: take('userId'),
    username: take('username'),
    ip: take('ip'),
    details: rest,
  };
  // A lock is about a username, a client or an address: file it in that column too.
  if (event.type === 'rate_limit.locked') {
    if (event.scope === 'login_username' || event.scope === 'login_user_address') entry.username = event.subject;
    else if (event.scope === 'client_id') entry.clientId = event.subject;
    // A device cookie's counter is filed under its digest, which is in the details only.
    else if (event.scope !== 'login_device') entry.ip = event.subject;
  }
  return entry;
}

export class AuditTrail {
  private readonly buffer: AuditEvent[] = [];
  private readonly flushIntervalMs: number;
  private readonly batchSize: number;
  private readonly maxBuffered: number;
  private readonly unsubscribe: () => void;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Events dropped because the buffer was full. */
  dropped = 0;
  /** Called when a batch could not be written (it stays buffered for the next attempt). */
  onError: (error: unknown) => void = () => {};

  constructor(
    private readonly store: Pick<Store, 'audit'>,
    events: EventBus,
    options: AuditTrailOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.batchSize = options.batchSize ?? 200;
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.unsubscribe = events.onAny((event) => this.record(event));
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.buffer.length;
  }

  private record(event: TimedEvent): void {
    const entry = toAuditEvent(event);
    if (!entry) return;
    this.buffer.push(entry);
    this.trim();
    if (this.buffer.length >= this.batchSize) void this.flush();
    else this.schedule();
  }

  private trim(): void {
    const excess = this.buffer.length - this.maxBuffered;
    if (excess > 0) {
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushIntervalMs);
    // A pending write never keeps the process alive: close() writes what is left.
    this.timer.unref();
  }

  /** Writes every buffered event (one write at a time, in batches); resolves when done or failed. */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.drain());
    return this.writing;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.batchSize);
      try {
        await this.store.audit.insert(batch);
      } catch (error) {
        // Kept, in order, for the next attempt; what does not fit any more is dropped.
        this.buffer.unshift(...batch);
        this.trim();
        this.onError(error);
        this.schedule();
        return;
      }
    }
  }

  /** Stops listening and writes what is buffered. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
