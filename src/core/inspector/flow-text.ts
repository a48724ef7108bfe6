/**
 * The flow inspector's story as plain text, for `gatehouse flows`: the same steps, lanes,
 * channels, checks and explanations as the sequence diagram (src/ui/inspector-pages.ts), and the
 * steps told by the audit trail (audit-flows.ts).
 */
import { type FlowArrow, type FlowStep, type FlowSummary, describeState } from './flow-model.js';

const LANE: Record<string, string> = {
  browser: 'Browser',
  client: 'Client',
  gatehouse: 'Gatehouse',
  resource: 'Resource',
};

const time = (at: number) =>
  new Date(at)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

function arrowLine(arrow: FlowArrow): string {
  const params = arrow.params.map(([name, value]) => `${name}=${value}`).join(' ');
  return `${arrow.channel === 'front' ? 'front' : 'back '}  ${LANE[arrow.from]} → ${LANE[arrow.to]}  ${arrow.title}${params ? `  ${params}` : ''}`;
}

export function flowHeader(summary: FlowSummary): string {
  return `flow ${summary.flowId}  client ${summary.clientId ?? '-'}  user ${summary.user ?? '-'}  ${summary.grantType ?? '-'}  ${describeState(summary.state)}  ${time(summary.startedAt)}`;
}

/** One step, numbered within its flow: its arrows, checks and (failed) explanation. */
export function stepLines(step: FlowStep, number: number, startedAt: number): string[] {
  const origin =
    step.source === 'audit' ? 'from the audit trail' : `took ${step.durationMs} ms, instance ${step.instance}`;
  const lines = [`  ${number}. +${step.at - startedAt} ms (${origin})`];
  lines.push(`     ${arrowLine(step.request)}`);
  if (step.response !== null) lines.push(`     ${arrowLine(step.response)}`);
  for (const check of step.checks)
    lines.push(
      `       ${check.ok ? '✓' : '✗'} ${check.name}: ${check.detail}${check.ref ? ` (${check.ref.label})` : ''}`,
    );
  const failure = step.failure;
  if (failure !== null) {
    lines.push(`       error: ${failure.error}: ${failure.description}`);
    lines.push(`       rule: ${failure.rule} (${failure.ref.label}, ${failure.ref.url})`);
    if (failure.comparison !== null) {
      const { name, received, expected, at } = failure.comparison;
      lines.push(`       ${name} received:   ${received}`, `       ${name} registered: ${expected}`);
      lines.push(`       ${' '.repeat(name.length + 13 + at)}^ differs from character ${at + 1}`);
    }
    lines.push(`       fix (client developer): ${failure.fixClient}`, `       fix (operator): ${failure.fixOperator}`);
  }
  return lines;
}
