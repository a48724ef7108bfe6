/**
 * Readiness: can this instance serve requests right now? It can when its database answers a
 * trivial query. The answer is cached briefly and computed by one query at a time, so that
 * probes (load balancers, Kubernetes, several of each) never add more than about one query per
 * second to the database, and a probe never waits longer than the time limit.
 */
import type { Store } from '../store/store.js';

export interface ReadinessResult {
  ready: boolean;
  /** Why not ready, for the log (never sent to the prober). */
  error?: unknown;
  checkedAt: number;
}

export interface ReadinessOptions {
  /** How long an answer is reused (default 1000 ms). */
  cacheMs?: number;
  /** A ping that takes longer than this counts as unreachable (default 2000 ms). */
  timeoutMs?: number;
}

export class ReadinessProbe {
  private last: ReadinessResult | null = null;
  private inFlight: Promise<ReadinessResult> | null = null;
  private readonly cacheMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly store: Store,
    options: ReadinessOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  /** The last known answer, without querying (undefined before the first check). */
  get lastResult(): ReadinessResult | null {
    return this.last;
  }

  check(now: number = Date.now()): Promise<ReadinessResult> {
    if (this.last && now - this.last.checkedAt < this.cacheMs) return Promise.resolve(this.last);
    this.inFlight ??= this.ping().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async ping(): Promise<ReadinessResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the database did not answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    let result: ReadinessResult;
    try {
      await Promise.race([this.store.ping(), timeout]);
      result = { ready: true, checkedAt: Date.now() };
    } catch (error) {
      result = { ready: false, error, checkedAt: Date.now() };
    } finally {
      clearTimeout(timer);
    }
    this.last = result;
    return result;
  }
}
