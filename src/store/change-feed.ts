/**
 * Announcing changes to cached data (clients, signing keys) to every instance: see StoreChange
 * in src/store/store.ts.
 *
 * - In the process that made the change, the store announces it itself, right after the change
 *   committed (ChangeHub.emit), whatever the database.
 * - On PostgreSQL the store also sends `NOTIFY` on a channel named after the schema, in the same
 *   transaction as the change (so it is delivered exactly when the change becomes visible, and
 *   never for a change that rolled back), and each instance keeps one dedicated connection that
 *   `LISTEN`s on it (PostgresChangeListener). That connection reconnects by itself after a loss;
 *   since notifications sent while it was down are lost, every reconnect tells the listeners to
 *   drop everything they cached (onReset).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { StoreChange, StoreChangeListener } from './records.js';

/** Fans changes out to the subscribed listeners; a throwing listener does not stop the others. */
export class ChangeHub {
  private readonly listeners = new Set<StoreChangeListener>();

  get size(): number {
    return this.listeners.size;
  }

  add(listener: StoreChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(change: StoreChange): void {
    this.each((listener) => listener.onChange(change));
  }

  reset(): void {
    this.each((listener) => listener.onReset());
  }

  error(error: unknown): void {
    this.each((listener) => listener.onError?.(error));
  }

  private each(fn: (listener: StoreChangeListener) => void): void {
    for (const listener of [...this.listeners]) {
      try {
        fn(listener);
      } catch (error) {
        if (listener.onError) {
          try {
            listener.onError(error);
          } catch {
            // A listener failing in its own error handler has nothing left to tell.
          }
        }
      }
    }
  }
}

/** PostgreSQL's limit on identifiers, channel names included (NAMEDATALEN - 1 bytes). */
const MAX_CHANNEL_LENGTH = 63;

/**
 * The NOTIFY channel of the deployment whose tables live in `schema`: deployments sharing one
 * database in different schemas never see each other's changes.
 */
export function changeChannelFor(schema: string): string {
  const plain = `gatehouse_changes_${schema}`;
  if (Buffer.byteLength(plain) <= MAX_CHANNEL_LENGTH) return plain;
  return `gatehouse_changes_${createHash('sha256').update(schema).digest('hex').slice(0, 40)}`;
}

/** Parses a NOTIFY payload; undefined for anything this version does not understand. */
export function parseChange(payload: string | undefined): StoreChange | undefined {
  if (payload === undefined) return undefined;
  try {
    const value = JSON.parse(payload) as Partial<{ kind: unknown; clientId: unknown; identifier: unknown }>;
    if (value.kind === 'client' && typeof value.clientId === 'string')
      return { kind: 'client', clientId: value.clientId };
    if (value.kind === 'resource' && typeof value.identifier === 'string')
      return { kind: 'resource', identifier: value.identifier };
    if (value.kind === 'signing_keys') return { kind: 'signing_keys' };
  } catch {
    // fall through: unknown payload
  }
  return undefined;
}

export interface PostgresChangeListenerOptions {
  connectionString: string;
  channel: string;
  /** First reconnect delay; doubles up to maxRetryDelayMs. */
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** A `SELECT 1` on the listening connection this often, so a silently dead connection is noticed. */
  heartbeatIntervalMs?: number;
}

const DEFAULT_MIN_RETRY_DELAY_MS = 100;
const DEFAULT_MAX_RETRY_DELAY_MS = 5_000;
const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
/** Time limit of the connect, LISTEN and heartbeat round trips. */
const LISTENER_TIMEOUT_MS = 5_000;

/**
 * One dedicated PostgreSQL connection per store that LISTENs on the change channel and passes
 * what it hears to a ChangeHub. Never throws: failures go to the hub's onError and are retried.
 */
export class PostgresChangeListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private retryDelayMs: number;
  private readonly minRetryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly heartbeatIntervalMs: number;
  /** Connections established so far (the first one included). */
  connections = 0;

  constructor(
    private readonly options: PostgresChangeListenerOptions,
    private readonly hub: ChangeHub,
  ) {
    this.minRetryDelayMs = options.minRetryDelayMs ?? DEFAULT_MIN_RETRY_DELAY_MS;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.retryDelayMs = this.minRetryDelayMs;
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeatTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      // Named after the channel, so an operator can tell the listeners in pg_stat_activity.
      application_name: this.options.channel,
      keepAlive: true,
      connectionTimeoutMillis: LISTENER_TIMEOUT_MS,
      query_timeout: LISTENER_TIMEOUT_MS,
    });
    this.client = client;
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      if (this.client === client) this.client = undefined;
      clearInterval(this.heartbeatTimer);
      client.removeAllListeners('notification');
      client.end().catch(() => {});
      if (this.stopped) return;
      this.hub.error(error);
      this.scheduleReconnect();
    };
    // Without these listeners a lost connection would crash the process.
    client.on('error', fail);
    client.on('end', () => fail(new Error('the change listener connection ended')));
    client.on('notification', (message) => {
      if (message.channel !== this.options.channel) return;
      const change = parseChange(message.payload);
      // A payload this version does not know (a newer instance): drop everything, to be safe.
      if (change) this.hub.emit(change);
      else this.hub.reset();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.channel}"`);
    } catch (error) {
      fail(error);
      return;
    }
    if (this.stopped || failed) {
      if (!failed) await client.end().catch(() => {});
      return;
    }
    this.connections++;
    this.retryDelayMs = this.minRetryDelayMs;
    this.heartbeatTimer = setInterval(() => {
      client.query('SELECT 1').catch(fail);
    }, this.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
    // Whatever changed before LISTEN took effect (first start, or while disconnected) was missed.
    this.hub.reset();
  }

  private scheduleReconnect(): void {
    clearTimeout(this.retryTimer);
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, this.maxRetryDelayMs);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }
}
