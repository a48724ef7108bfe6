/**
 * Prometheus metrics in the text exposition format (version 0.0.4) through prom-client:
 * counters, gauges and histograms with labels, rendered on each scrape. Each instance has its
 * own Registry (not prom-client's global one), so several servers in one process (the tests)
 * keep separate counts.
 *
 * What is measured comes from two places only, never from inside an endpoint: the typed
 * EventBus (tokens issued per grant type, login failures, refresh token reuse, ...) and the
 * HTTP layer's request hooks (counts and latencies per route pattern and outcome). Gauges that
 * describe the current state (database pool, readiness, memory, event-loop lag) are read when
 * scraped (prom-client's `collect`).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventBus } from '../core/events.js';
import type { PoolStats } from '../store/store.js';

const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The label names of the HTTP request metrics. */
const HTTP_LABELS = ['route', 'method', 'status_class', 'error'] as const;
type HttpLabels = Record<(typeof HTTP_LABELS)[number], string>;

export interface MetricsSources {
  events: EventBus;
  /** The database pool's state; null when the store has no pool (embedded SQLite). */
  poolStats(): PoolStats | null;
  dialect: 'sqlite' | 'postgres';
  /** The last readiness answer (1 ready, 0 not ready), or null before the first check. */
  ready(): boolean | null;
}

/** The Content-Type of a scrape: text exposition format 0.0.4. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** One instance's metrics. `close()` stops the event-loop monitor and the event subscription. */
export class GatehouseMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<(typeof HTTP_LABELS)[number]>;
  readonly httpDuration: Histogram<(typeof HTTP_LABELS)[number]>;
  readonly tokensIssued: Counter<'grant_type'>;
  readonly tokensRefused: Counter<'error'>;
  readonly tokensRevoked: Counter<'kind'>;
  readonly loginFailures: Counter;
  readonly loginSuccesses: Counter;
  readonly refreshReuse: Counter;
  readonly codeReplays: Counter;
  readonly events: Counter<'type'>;

  private readonly loopDelay: IntervalHistogram;
  private readonly unsubscribe: () => void;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const counter = <L extends string = never>(name: string, help: string, labelNames?: readonly L[]) =>
      new Counter<L>({ name, help, ...(labelNames === undefined ? {} : { labelNames }), registers });
    // Registration order is the order of a scrape.
    this.httpRequests = counter(
      'gatehouse_http_requests_total',
      'HTTP requests by route pattern, method, status class and OAuth error code.',
      HTTP_LABELS,
    );
    this.httpDuration = new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern, method, status class and OAuth error code.',
      labelNames: HTTP_LABELS,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.tokensIssued = counter('gatehouse_tokens_issued_total', 'Access tokens issued, by grant type.', [
      'grant_type',
    ]);
    this.tokensRefused = counter(
      'gatehouse_token_requests_refused_total',
      'Token requests refused, by OAuth error code.',
      ['error'],
    );
    this.tokensRevoked = counter(
      'gatehouse_tokens_revoked_total',
      'Tokens revoked at the revocation endpoint, by kind.',
      ['kind'],
    );
    this.loginSuccesses = counter('gatehouse_logins_total', 'Successful logins.');
    this.loginFailures = counter('gatehouse_login_failures_total', 'Failed logins (unknown user or wrong password).');
    this.refreshReuse = counter(
      'gatehouse_refresh_token_reuse_detected_total',
      'Refresh token reuse detections (RFC 9700 §4.14.2), each revoking a grant.',
    );
    this.codeReplays = counter(
      'gatehouse_authorization_code_replays_total',
      'Authorization codes presented again (RFC 6749 §4.1.2), each revoking a grant.',
    );
    this.events = counter('gatehouse_events_total', 'Protocol events, by type.', ['type']);

    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
    this.loopDelay.enable();
    const { events } = sources;
    const subscriptions = [
      events.onAny((event) => this.events.inc({ type: event.type })),
      events.on('token.issued', (event) => this.tokensIssued.inc({ grant_type: event.grantType })),
      events.on('token.refused', (event) => this.tokensRefused.inc({ error: event.error })),
      events.on('token.revoked', (event) => this.tokensRevoked.inc({ kind: event.kind })),
      events.on('login.failed', () => this.loginFailures.inc()),
      events.on('login.succeeded', () => this.loginSuccesses.inc()),
      events.on('refresh.reused', () => this.refreshReuse.inc()),
      events.on('code.replayed', () => this.codeReplays.inc()),
    ];
    this.unsubscribe = () => {
      for (const unsubscribe of subscriptions) unsubscribe();
    };

    // Gauges read at scrape time: `collect` sets the current samples (none when unknown).
    new Gauge({
      name: 'gatehouse_db_pool_connections',
      help: 'PostgreSQL pool connections: total open, idle, and requests waiting for one.',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const stats = sources.poolStats();
        if (!stats) return;
        this.set({ state: 'total' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
    new Gauge({
      name: 'gatehouse_db_ready',
      help: 'Whether the database answered the last readiness check (1) or not (0).',
      labelNames: ['dialect'],
      registers,
      collect() {
        this.reset();
        const ready = sources.ready();
        if (ready !== null) this.set({ dialect: sources.dialect }, ready ? 1 : 0);
      },
    });
    new Gauge({
      name: 'process_resident_memory_bytes',
      help: 'Resident set size in bytes.',
      registers,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
    new Gauge({
      name: 'nodejs_heap_used_bytes',
      help: 'V8 heap in use, in bytes.',
      registers,
      collect() {
        this.set(process.memoryUsage().heapUsed);
      },
    });
    const startedAt = Math.round(Date.now() / 1000 - process.uptime());
    new Gauge({
      name: 'process_start_time_seconds',
      help: 'Start time of the process since the Unix epoch, in seconds.',
      registers,
    }).set(startedAt);
    const loopDelay = this.loopDelay;
    new Gauge({
      name: 'nodejs_eventloop_lag_seconds',
      help: 'Event-loop delay since the previous scrape: mean, 99th percentile and maximum.',
      labelNames: ['quantity'],
      registers,
      collect() {
        this.set({ quantity: 'mean' }, nanosToSeconds(loopDelay.mean));
        this.set({ quantity: 'p99' }, nanosToSeconds(loopDelay.percentile(99)));
        this.set({ quantity: 'max' }, nanosToSeconds(loopDelay.max));
        loopDelay.reset();
      },
    });
  }

  /** Records one finished HTTP request. `route` is the route pattern, never the raw URL. */
  observeRequest(request: {
    route: string;
    method: string;
    status: number;
    error: string | null;
    seconds: number;
  }): void {
    const labels: HttpLabels = {
      route: request.route,
      method: request.method,
      status_class: `${Math.floor(request.status / 100)}xx`,
      error: request.error ?? '',
    };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, request.seconds);
  }

  /**
   * The scrape: every metric in registration order, one line per sample and no blank lines
   * between metrics (prom-client's `Registry.metrics()` separates them with one).
   */
  async render(): Promise<string> {
    const texts = await Promise.all(
      this.registry.getMetricsAsArray().map((metric) => this.registry.getSingleMetricAsString(metric.name)),
    );
    return `${texts.join('\n')}\n`;
  }

  close(): void {
    this.unsubscribe();
    this.loopDelay.disable();
  }
}

function nanosToSeconds(nanos: number): number {
  return Number.isFinite(nanos) ? nanos / 1e9 : 0;
}
