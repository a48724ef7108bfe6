/**
 * The flow inspector's memory: a bounded ring of recent flows on this instance, and (so that a
 * flow that crossed instances shows completely from any of them) the same steps in the store,
 * which every instance reads. Exists only while the inspector is on (settings.inspector.enabled):
 * when it is off nothing of this is created, nothing records, nothing is written.
 *
 * Writes are off the request's critical path: a step is kept in the ring at once and written to
 * the store in the background; `flush()` waits for the writes in flight.
 */
import { randomBytes } from 'node:crypto';
import type { InspectorSettings } from '../../config/settings.js';
import type { InspectorStepRecord, Store } from '../../store/store.js';
import { type FlowStep, type FlowSummary, summarize } from './flow-model.js';

export interface FlowFilter {
  clientId?: string;
  failed?: boolean;
  limit?: number;
}

export class FlowInspector {
  /** Flows by id, oldest first (a Map keeps insertion order; a flow touched again moves to the end). */
  private readonly flows = new Map<string, FlowStep[]>();
  private readonly links = new Map<string, string>();
  /** Links a request in progress will make once its flow is known (see expect). */
  private readonly pending = new Map<string, Promise<string | undefined>>();
  private readonly listeners = new Set<(summary: FlowSummary) => void>();
  private readonly writes = new Set<Promise<void>>();
  /** This instance, as steps name it. */
  readonly instance = randomBytes(3).toString('hex');
  /** Called when a write to the store fails (the step stays in memory). */
  onError: (error: unknown) => void = () => {};

  constructor(
    private readonly store: Pick<Store, 'inspector'>,
    private readonly settings: InspectorSettings,
    private readonly now: () => number = Date.now,
  ) {}

  private get retentionMs(): number {
    return this.settings.retentionMinutes * 60_000;
  }

  /** Keeps `work` (recording a step) in the writes `flush()` waits for; a failure goes to onError. */
  track(work: Promise<unknown>): void {
    this.background(work);
  }

  /** The PKCE method of the flow's authorization request (RFC 7636 §4.3), from any instance's steps. */
  async codeChallengeMethod(flowId: string): Promise<string | undefined> {
    const steps = this.flows.get(flowId) ?? (await this.flow(flowId));
    for (const step of steps) {
      const method = step.request.params.find(([name]) => name === 'code_challenge_method')?.[1];
      if (method !== undefined) return method;
    }
    return undefined;
  }

  private background(work: Promise<unknown>): void {
    const promise = work.then(
      () => {},
      (error: unknown) => this.onError(error),
    );
    this.writes.add(promise);
    void promise.finally(() => this.writes.delete(promise));
  }

  private remember(step: FlowStep): FlowStep[] {
    const steps = this.flows.get(step.flowId) ?? [];
    this.flows.delete(step.flowId);
    if (!steps.some((known) => known.id === step.id)) steps.push(step);
    steps.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
    this.flows.set(step.flowId, steps);
    while (this.flows.size > this.settings.maxFlows) this.flows.delete(this.flows.keys().next().value!);
    return steps;
  }

  /** Records a step: in memory at once, in the store in the background; tells the live list. */
  record(step: FlowStep): void {
    const steps = this.remember(step);
    const record: InspectorStepRecord = {
      id: step.id,
      flowId: step.flowId,
      at: step.at,
      clientId: step.clientId,
      outcome: step.failure !== null ? 'failed' : step.status !== null && step.status < 400 ? 'ok' : 'info',
      data: step as unknown as Record<string, unknown>,
      expiresAt: step.at + this.retentionMs,
    };
    this.background(this.store.inspector.insertSteps([record]));
    const summary = summarize(step.flowId, steps);
    for (const listener of this.listeners) {
      try {
        listener(summary);
      } catch (error) {
        this.onError(error);
      }
    }
  }

  /** Ties `key` (a jti, or a hashed code or interaction id) to a flow, here and (resolved once written) for the other instances. */
  async link(key: string, flowId: string): Promise<void> {
    if (this.links.size >= this.settings.maxFlows * 8) this.links.delete(this.links.keys().next().value!);
    this.links.set(key, flowId);
    try {
      await this.store.inspector.link(key, flowId, this.now() + this.retentionMs);
    } catch (error) {
      this.onError(error);
    }
  }

  /**
   * Announces that a request in progress will tie `key` to its flow once that is known (when its
   * answer is sent): until then, or for at most `waitMs`, flowOf(key) waits for it. A logout
   * wakes the delivery worker before its own step knows its flow; its deliveries belong to it.
   * Returns the function that settles the wait (with the flow, after linking it; or undefined).
   */
  expect(key: string, waitMs = 5000): (flowId: string | undefined) => void {
    let resolve!: (flowId: string | undefined) => void;
    const promise = new Promise<string | undefined>((done) => {
      resolve = done;
    });
    const settle = (flowId: string | undefined) => {
      clearTimeout(timer);
      if (this.pending.get(key) === promise) this.pending.delete(key);
      resolve(flowId);
    };
    const timer = setTimeout(() => settle(undefined), waitMs);
    timer.unref();
    this.pending.set(key, promise);
    return settle;
  }

  /** The flow `key` was tied to, on this instance or another (waiting for a link announced by expect). */
  async flowOf(key: string): Promise<string | undefined> {
    const pending = this.pending.get(key);
    const announced = pending !== undefined ? await pending : undefined;
    return announced ?? this.links.get(key) ?? (await this.store.inspector.flowOf(key));
  }

  /** Every step of a flow, from every instance (the store), with this instance's not yet written. */
  async flow(flowId: string): Promise<FlowStep[]> {
    const stored = await this.store.inspector.flowSteps(flowId);
    const byId = new Map<string, FlowStep>();
    for (const record of stored) byId.set(record.id, record.data as unknown as FlowStep);
    for (const step of this.flows.get(flowId) ?? []) byId.set(step.id, step);
    return [...byId.values()].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  }

  /** The newest flows (from the store, so every instance's), newest first. */
  async recent(filter: FlowFilter = {}): Promise<FlowSummary[]> {
    const limit = filter.limit ?? 50;
    const records = await this.store.inspector.recentSteps({
      limit,
      ...(filter.clientId !== undefined ? { clientId: filter.clientId } : {}),
      ...(filter.failed ? { failed: true } : {}),
    });
    const grouped = new Map<string, FlowStep[]>();
    for (const record of records) {
      const steps = grouped.get(record.flowId) ?? [];
      steps.push(record.data as unknown as FlowStep);
      grouped.set(record.flowId, steps);
    }
    // This instance's steps not yet in the store.
    for (const [flowId, steps] of this.flows) {
      const known = grouped.get(flowId);
      if (known === undefined) {
        const summary = summarize(flowId, steps);
        if (filter.clientId !== undefined && summary.clientId !== filter.clientId) continue;
        if (filter.failed && summary.state.kind !== 'failed') continue;
        grouped.set(flowId, [...steps]);
        continue;
      }
      for (const step of steps) if (!known.some((other) => other.id === step.id)) known.push(step);
    }
    return (
      [...grouped.entries()]
        .map(([flowId, steps]) =>
          summarize(
            flowId,
            steps.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id)),
          ),
        )
        // A failed step does not always fail its flow (a delivery delivered on retry): the state decides.
        .filter((summary) => !filter.failed || summary.state.kind === 'failed')
        .sort((a, b) => b.lastAt - a.lastAt)
        .slice(0, limit)
    );
  }

  /** Calls `listener` with a flow's new summary whenever one of its steps is recorded here. */
  subscribe(listener: (summary: FlowSummary) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Deletes the expired steps and links from the store (the cleanup interval calls it). */
  async cleanup(): Promise<number> {
    return this.store.inspector.deleteExpired(this.now());
  }

  /** Waits for the writes in flight. */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }
}
