/**
 * `gatehouse flows`: the flow inspector's story in the terminal, from the store (every
 * instance's steps): the newest flows with each step's lanes, channel, checks and, for a failure,
 * the rule, its spec section and the likely fixes. `--follow` keeps printing steps as they are
 * recorded. Only flows recorded while the inspector was on (--dev, inspector.enabled) exist.
 */
import type { Command } from 'commander';
import type { FlowStep } from '../../core/inspector/flow-model.js';
import { summarize } from '../../core/inspector/flow-model.js';
import { flowHeader, stepLines } from '../../core/inspector/flow-text.js';
import type { InspectorStepRecord, Store } from '../../store/store.js';
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

function grouped(records: InspectorStepRecord[]): Map<string, FlowStep[]> {
  const flows = new Map<string, FlowStep[]>();
  for (const record of records) {
    const steps = flows.get(record.flowId) ?? [];
    steps.push(record.data as unknown as FlowStep);
    flows.set(record.flowId, steps);
  }
  return flows;
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
      'No flows recorded. The flow inspector records while it is on: gatehouse start --dev, or inspector.enabled.\n',
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

async function follow(store: Store, flags: FlowsFlags, seen: Set<string>, since: number): Promise<void> {
  let stop = false;
  const stopNow = () => {
    stop = true;
  };
  process.once('SIGINT', stopNow);
  process.once('SIGTERM', stopNow);
  writeErr('Following new steps; press Ctrl-C to stop.');
  const numbers = new Map<string, { count: number; startedAt: number }>();
  let from = since;
  while (!stop) {
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
    const records = await store.inspector.recentSteps({
      limit: 100,
      since: from,
      ...(flags.client !== undefined ? { clientId: flags.client } : {}),
      ...(flags.failed ? { failed: true } : {}),
    });
    for (const record of records) {
      if (seen.has(record.id)) continue;
      seen.add(record.id);
      from = Math.max(from, record.at - 60_000);
      const step = record.data as unknown as FlowStep;
      const known = numbers.get(record.flowId) ?? { count: 0, startedAt: record.at };
      known.count += 1;
      numbers.set(record.flowId, known);
      if (flags.json) writeOut(`${JSON.stringify(step)}\n`);
      else writeOut(`flow ${record.flowId}\n${stepLines(step, known.count, known.startedAt).join('\n')}\n`);
    }
  }
}

async function flowsCommand(flags: FlowsFlags): Promise<void> {
  const limit = limitFlag(flags.limit) ?? 20;
  await withStore(flags, async (store) => {
    const records = await store.inspector.recentSteps({
      limit,
      ...(flags.client !== undefined ? { clientId: flags.client } : {}),
      ...(flags.failed ? { failed: true } : {}),
    });
    printFlows(grouped(records), flags.json);
    if (flags.follow) await follow(store, flags, new Set(records.map((record) => record.id)), Date.now() - 60_000);
  });
}

export function registerFlows(program: Command): void {
  listCommand(
    program,
    'flows',
    'the flow inspector in the terminal: recent flows step by step (lanes, channel, checks, failures explained)',
    (command) =>
      command
        .option('--follow', 'keep printing new steps as they are recorded')
        .option('--client <client_id>', 'only flows of this client')
        .option('--failed', 'only flows with a failed step')
        .option('--limit <n>', 'at most this many flows (default: 20)'),
  ).action((flags: FlowsFlags) => flowsCommand(flags));
}
