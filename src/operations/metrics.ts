/**
 * Prometheus metrics in the text exposition format (version 0.0.4), written by hand: counters,
 * gauges and histograms with labels, rendered on each scrape.
 *
 * What is measured comes from two places only, never from inside an endpoint: the typed
 * EventBus (tokens issued per grant type, login failures, refresh token reuse, ...) and the
 * HTTP layer's request hooks (counts and latencies per route pattern and outcome). Gauges that
 * describe the current state (database pool, readiness, memory, event-loop lag) are read when
 * scraped.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { EventBus } from '../core/events.js';
import type { PoolStats } from '../store/store.js';

type Labels = Record<string, string>;

/** Text format: label values escape backslash, double quote and line feed. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

/** A series' map key: each label name and value, length-prefixed (unambiguous, and cheap per request). */
function keyOf(labels: Labels): string {
  let key = '';
  for (const name in labels) {
    const value = String(labels[name]);
    key += `${name.length}:${name}${value.length}:${value}`;
  }
  return key;
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = keyOf(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }

  get(labels: Labels = {}): number {
    return this.values.get(keyOf(labels))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${formatNumber(value)}`);
    return lines.join('\n');
  }
}

/** A gauge whose samples are read at scrape time. */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => Array<{ labels?: Labels; value: number }>,
  ) {}

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const { labels, value } of this.read()) lines.push(`${this.name}${labelText(labels ?? {})} ${formatNumber(value)}`);
    return lines.join('\n');
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds, ascending; +Inf is implied. */
    readonly buckets: number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const key = keyOf(labels);
    let entry = this.series.get(key);
    if (!entry) this.series.set(key, (entry = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) entry.counts[i]!++;
    entry.sum += value;
    entry.count++;
  }

  count(labels: Labels): number {
    return this.series.get(keyOf(labels))?.count ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.series.values()) {
      // Bucket counts are cumulative: counts[i] already holds every value <= buckets[i].
      this.buckets.forEach((bound, i) => lines.push(`${this.name}_bucket${labelText(labels, ['le', formatNumber(bound)])} ${counts[i]}`));
      lines.push(`${this.name}_bucket${labelText(labels, ['le', '+Inf'])} ${count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${formatNumber(sum)}`);
      lines.push(`${this.name}_count${labelText(labels)} ${count}`);
    }
    return lines.join('\n');
  }
}

const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface MetricsSources {
  events: EventBus;
  /** The database pool's state; null when the store has no pool (embedded SQLite). */
  poolStats(): PoolStats | null;
  dialect: 'sqlite' | 'postgres';
  /** The last readiness answer (1 ready, 0 not ready), or null before the first check. */
  ready(): boolean | null;
}

/** One instance's metrics. `close()` stops the event-loop monitor and the event subscription. */
export class GatehouseMetrics {
  readonly httpRequests = new Counter('gatehouse_http_requests_total', 'HTTP requests by route pattern, method, status class and OAuth error code.');
  readonly httpDuration = new Histogram(
    'gatehouse_http_request_duration_seconds',
    'HTTP request latency by route pattern, method, status class and OAuth error code.',
    LATENCY_BUCKETS_SECONDS,
  );
  readonly tokensIssued = new Counter('gatehouse_tokens_issued_total', 'Access tokens issued, by grant type.');
  readonly tokensRefused = new Counter('gatehouse_token_requests_refused_total', 'Token requests refused, by OAuth error code.');
  readonly tokensRevoked = new Counter('gatehouse_tokens_revoked_total', 'Tokens revoked at the revocation endpoint, by kind.');
  readonly loginFailures = new Counter('gatehouse_login_failures_total', 'Failed logins (unknown user or wrong password).');
  readonly loginSuccesses = new Counter('gatehouse_logins_total', 'Successful logins.');
  readonly refreshReuse = new Counter('gatehouse_refresh_token_reuse_detected_total', 'Refresh token reuse detections (RFC 9700 §4.14.2), each revoking a grant.');
  readonly codeReplays = new Counter('gatehouse_authorization_code_replays_total', 'Authorization codes presented again (RFC 6749 §4.1.2), each revoking a grant.');
  readonly events = new Counter('gatehouse_events_total', 'Protocol events, by type.');

  private readonly gauges: Gauge[];
  private readonly loopDelay: IntervalHistogram;
  private readonly unsubscribe: () => void;

  constructor(private readonly sources: MetricsSources) {
    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
    this.loopDelay.enable();
    this.unsubscribe = sources.events.onAny((event) => {
      this.events.inc({ type: event.type });
      switch (event.type) {
        case 'token.issued':
          this.tokensIssued.inc({ grant_type: event.grantType });
          break;
        case 'token.refused':
          this.tokensRefused.inc({ error: event.error });
          break;
        case 'token.revoked':
          this.tokensRevoked.inc({ kind: event.kind });
          break;
        case 'login.failed':
          this.loginFailures.inc();
          break;
        case 'login.succeeded':
          this.loginSuccesses.inc();
          break;
        case 'refresh.reused':
          this.refreshReuse.inc();
          break;
        case 'code.replayed':
          this.codeReplays.inc();
          break;
        default:
          break;
      }
    });
    const startedAt = Date.now() / 1000 - process.uptime();
    this.gauges = [
      new Gauge('gatehouse_db_pool_connections', 'PostgreSQL pool connections: total open, idle, and requests waiting for one.', () => {
        const stats = sources.poolStats();
        if (!stats) return [];
        return [
          { labels: { state: 'total' }, value: stats.total },
          { labels: { state: 'idle' }, value: stats.idle },
          { labels: { state: 'waiting' }, value: stats.waiting },
        ];
      }),
      new Gauge('gatehouse_db_ready', 'Whether the database answered the last readiness check (1) or not (0).', () => {
        const ready = sources.ready();
        return ready === null ? [] : [{ labels: { dialect: sources.dialect }, value: ready ? 1 : 0 }];
      }),
      new Gauge('process_resident_memory_bytes', 'Resident set size in bytes.', () => [{ value: process.memoryUsage.rss() }]),
      new Gauge('nodejs_heap_used_bytes', 'V8 heap in use, in bytes.', () => [{ value: process.memoryUsage().heapUsed }]),
      new Gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', () => [{ value: Math.round(startedAt) }]),
      new Gauge('nodejs_eventloop_lag_seconds', 'Event-loop delay since the previous scrape: mean, 99th percentile and maximum.', () => {
        const samples = [
          { labels: { quantity: 'mean' }, value: nanosToSeconds(this.loopDelay.mean) },
          { labels: { quantity: 'p99' }, value: nanosToSeconds(this.loopDelay.percentile(99)) },
          { labels: { quantity: 'max' }, value: nanosToSeconds(this.loopDelay.max) },
        ];
        this.loopDelay.reset();
        return samples;
      }),
    ];
  }

  /** Records one finished HTTP request. `route` is the route pattern, never the raw URL. */
  observeRequest(request: { route: string; method: string; status: number; error: string | null; seconds: number }): void {
    const labels = {
      route: request.route,
      method: request.method,
      status_class: `${Math.floor(request.status / 100)}xx`,
      error: request.error ?? '',
    };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, request.seconds);
  }

  render(): string {
    const metrics: Metric[] = [
      this.httpRequests,
      this.httpDuration,
      this.tokensIssued,
      this.tokensRefused,
      this.tokensRevoked,
      this.loginSuccesses,
      this.loginFailures,
      this.refreshReuse,
      this.codeReplays,
      this.events,
      ...this.gauges,
    ];
    return `${metrics.map((metric) => metric.render()).join('\n')}\n`;
  }

  close(): void {
    this.unsubscribe();
    this.loopDelay.disable();
  }
}

function nanosToSeconds(nanos: number): number {
  return Number.isFinite(nanos) ? nanos / 1e9 : 0;
}
