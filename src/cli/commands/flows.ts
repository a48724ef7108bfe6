/**
 * `gatehouse flows`: the story of recent flows in the terminal, from the store (every instance's
 * records): the audit trail's events grouped by flow id (src/core/inspector/audit-flows.ts), so
 * flows show also when the inspector was off, with the inspector's steps merged in where it
 * recorded them (each step's lanes, channel, checks and, for a failure, the rule, its spec
 * section and the likely fixes). `--follow` keeps printing steps as they are recorded.
 */
import type { Command } from 'commander';
import { auditFlowSteps, coveredBy, FLOW_EVENT_TYPES, mergeFlows } from '../../core/inspector/audit-flows.js';
import type { FlowStep } from '../../core/inspector/flow-model.js';
import { summarize } from '../../core/inspector/flow-model.js';
import { flowHeader, stepLines } from '../../core/inspector/flow-text.js';
import type { AuditEvent, InspectorStepRecord, Store } from '../../store/store.js';
import { writeErr, writeOut } from '../output.js';
import { limitFlag, listCommand, withStore, type StoreFlags } from '../shared.js';

interface FlowsFlags extends StoreFlags {
  follow?: boolean;
  client?: string;
  failed?: boolean;
  limit?: string;
  json?: boolean;
}

/** How often --follow looks for new steps. */
const FOLLOW_INTERVAL_MS = 1000;
/**
 * How long --follow lets an audit event settle before telling it: the inspector (when on) writes
 * its step of the same request in the background, and the audit trail batches for up to 1 s.
 */
const AUDIT_SETTLE_MS = 2500;
/** Recent audit events read to find the newest flows (a flow has a handful). */
const AUDIT_SCAN = 5000;
/** Most flows whose events are read together (--failed looks through this many). */
const MAX_CANDIDATES = 500;

const types = [...FLOW_EVENT_TYPES];

function grouped(records: InspectorStepRecord[]): Map<string, FlowStep[]> {
  const flows = new Map<string, FlowStep[]>();
  for (const record of records) {
    const steps = flows.get(record.flowId) ?? [];
    if (!steps.some((step) => step.id === record.id)) steps.push(record.data as unknown as FlowStep);
    flows.set(record.flowId, steps);
  }
  return flows;
}

/** The newest flows, from the audit trail and the inspector's steps, filtered, newest first. */
async function loadFlows(store: Store, flags: FlowsFlags, limit: number): Promise<Map<string, FlowStep[]>> {
  const client = flags.client !== undefined ? { clientId: flags.client } : {};
  const recent = await store.audit.list({ types, limit: Math.min(limit * 50, AUDIT_SCAN), ...client });
  const candidates: string[] = [];
  for (const event of recent)
    if (event.flowId !== null && !candidates.includes(event.flowId)) candidates.push(event.flowId);
  const ids = candidates.slice(0, flags.failed ? MAX_CANDIDATES : limit);
  // Each candidate's every event (also those of another client, e.g. a failed login's).
  const oldest = Math.min(...recent.filter((event) => event.flowId !== null).map((event) => event.at));
  const flowEvents =
    ids.length > 0 ? await store.audit.list({ types, flowIds: ids, since: oldest - 86_400_000, limit: 100_000 }) : [];
  const logouts = recent.filter((event) => event.flowId === null);
  const audited = auditFlowSteps([...flowEvents, ...logouts]);

  const recorded = grouped(
    await store.inspector.recentSteps({ limit, ...client, ...(flags.failed ? { failed: true } : {}) }),
  );
  for (const flowId of audited.keys()) {
    if (recorded.has(flowId)) continue;
    const steps = await store.inspector.flowSteps(flowId);
    if (steps.length > 0) recorded.set(flowId, grouped(steps).get(flowId)!);
  }
  for (const steps of recorded.values()) steps.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  const flows = [...mergeFlows(audited, recorded)]
    .map(([flowId, steps]) => ({ summary: summarize(flowId, steps), steps }))
    .filter(({ summary }) => flags.client === undefined || summary.clientId === flags.client)
    // A failed step does not always fail its flow (a delivery delivered on retry): the state decides.
    .filter(({ summary }) => !flags.failed || summary.state.kind === 'failed')
    .sort((a, b) => b.summary.lastAt - a.summary.lastAt)
    .slice(0, limit);
  return new Map(flows.map(({ summary, steps }) => [summary.flowId, steps]));
}

function printFlows(flows: Map<string, FlowStep[]>, json: boolean | undefined): void {
  if (json) {
    writeOut(
      `${JSON.stringify(
        [...flows].map(([flowId, steps]) => ({ ...summarize(flowId, steps), steps })),
        null,
        2,
      )}\n`,
    );
    return;
  }
  if (flows.size === 0) {
    writeOut(
      'No flows recorded: the audit trail has no events of a flow (sign-ins, codes, token requests, logouts) that match.\n',
    );
    return;
  }
  const lines: string[] = [];
  for (const [flowId, steps] of flows) {
    const summary = summarize(flowId, steps);
    lines.push(flowHeader(summary));
    for (const [index, step] of steps.entries()) lines.push(...stepLines(step, index + 1, summary.startedAt));
    lines.push('');
  }
  writeOut(`${lines.join('\n')}\n`);
}

async function follow(
  store: Store,
  flags: FlowsFlags,
  listed: Map<string, FlowStep[]>,
  seen: Set<string>,
  since: number,
): Promise<void> {
  let stop = false;
  const stopNow = () => {
    stop = true;
  };
  process.once('SIGINT', stopNow);
  process.once('SIGTERM', stopNow);
  writeErr('Following new steps; press Ctrl-C to stop.');
  // A listed flow's new steps are numbered after the ones listed.
  const numbers = new Map<string, { count: number; startedAt: number; failed: boolean }>(
    [...listed].map(([flowId, steps]) => [
      flowId,
      { count: steps.length, startedAt: steps[0]?.at ?? 0, failed: summarize(flowId, steps).state.kind === 'failed' },
    ]),
  );
  const client = flags.client !== undefined ? { clientId: flags.client } : {};
  /** The inspector's steps printed lately, per flow: the audit events they cover are not told again. */
  const printed = new Map<string, FlowStep[]>();
  let from = since;
  let auditFrom = since;
  const print = (flowId: string, step: FlowStep) => {
    const known = numbers.get(flowId) ?? { count: 0, startedAt: step.at, failed: false };
    known.count += 1;
    known.failed ||= step.failure !== null;
    numbers.set(flowId, known);
    if (flags.json) writeOut(`${JSON.stringify(step)}\n`);
    else writeOut(`flow ${flowId}\n${stepLines(step, known.count, known.startedAt).join('\n')}\n`);
  };
  while (!stop) {
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
    const records = await store.inspector.recentSteps({
      limit: 100,
      since: from,
      ...client,
      ...(flags.failed ? { failed: true } : {}),
    });
    for (const record of records) {
      if (seen.has(record.id)) continue;
      seen.add(record.id);
      from = Math.max(from, record.at - 60_000);
      const step = record.data as unknown as FlowStep;
      const steps = printed.get(record.flowId) ?? [];
      steps.push(step);
      printed.set(record.flowId, steps.slice(-50));
      print(record.flowId, step);
    }
    // The audit trail: events old enough that the inspector's step of their request is written.
    const settled = Date.now() - AUDIT_SETTLE_MS;
    const events = (await store.audit.list({ types, since: auditFrom, limit: 1000, ...client })).filter(
      (event) => event.at <= settled && !seen.has(`audit:${event.id}`),
    );
    if (events.length === 0) continue;
    for (const event of events) seen.add(`audit:${event.id}`);
    auditFrom = Math.max(auditFrom, settled - 60_000);
    const recorded = new Map<string, FlowStep[]>();
    for (const flowId of new Set(events.map((event: AuditEvent) => event.flowId))) {
      if (flowId === null) continue;
      const steps = grouped(await store.inspector.flowSteps(flowId)).get(flowId) ?? printed.get(flowId) ?? [];
      recorded.set(flowId, steps);
    }
    const merged = mergeFlows(auditFlowSteps(events), new Map([...printed, ...recorded]));
    for (const [flowId, steps] of merged)
      for (const step of steps) {
        if (step.source !== 'audit' || coveredBy(step, recorded.get(flowId) ?? [])) continue;
        if (flags.failed && step.failure === null && numbers.get(flowId)?.failed !== true) continue;
        print(flowId, step);
      }
  }
}

async function flowsCommand(flags: FlowsFlags): Promise<void> {
  const limit = limitFlag(flags.limit) ?? 20;
  await withStore(flags, async (store) => {
    const flows = await loadFlows(store, flags, limit);
    printFlows(flows, flags.json);
    if (flags.follow) {
      const seen = new Set([...flows.values()].flat().map((step) => step.id));
      // The audit events already told (or older than the listing): --follow tells only new ones.
      const since = Date.now() - 60_000;
      for (const event of await store.audit.list({ types, since, limit: 10_000 })) seen.add(`audit:${event.id}`);
      await follow(store, flags, flows, seen, since);
    }
  });
}

export function registerFlows(program: Command): void {
  listCommand(
    program,
    'flows',
    'recent flows step by step from the audit trail, with the flow inspector’s steps (lanes, channel, checks, failures explained) where it recorded them',
    (command) =>
      command
        .option('--follow', 'keep printing new steps as they are recorded')
        .option('--client <client_id>', 'only flows of this client')
        .option('--failed', 'only flows that failed')
        .option('--limit <n>', 'at most this many flows (default: 20)'),
  ).action((flags: FlowsFlags) => flowsCommand(flags));
}
