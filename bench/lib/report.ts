/**
 * Turns the runs into the summary (medians of the interleaved runs, ratios to the ceiling and
 * to the peer, the issue's goals) and writes it as JSON and as a Markdown table.
 */
import type { DriverResult } from './results.js';
import { SCENARIOS, type ScenarioName } from './scenarios.js';

export interface SummaryRow {
  scenario: ScenarioName;
  target: string;
  runs: number;
  unit: 'request' | 'flow';
  concurrency: number;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuUsPerOp: number;
  dbCpuUsPerOp: number | null;
  driverCpuUsPerOp: number;
  /** Median machine load no measured process explains (other work on the machine). */
  otherBusyCores: number;
  /** Throughputs of the individual runs, in run order, to show the spread. */
  throughputs: number[];
  vsCeiling: number | null;
  vsPeer: number | null;
  cpuVsPeer: number | null;
  errors: number;
  flagged: boolean;
  errorSamples: string[];
}

export interface Goal {
  goal: string;
  measured: string;
  met: boolean | null;
}

export function median(values: number[]): number {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const middle = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
}

export const PEER = 'oidc-provider';
export const CEILING = 'ceiling';

export function summarize(runs: DriverResult[], scenarios: ScenarioName[], targets: string[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const scenario of scenarios) {
    for (const target of targets) {
      const mine = runs.filter((run) => run.scenario === scenario && run.target === target);
      if (mine.length === 0) continue;
      const measured = mine.filter((run) => run.fatal === undefined);
      const db = measured.map((run) => run.dbCpuUsPerOp).filter((value): value is number => value !== null);
      rows.push({
        scenario,
        target,
        runs: mine.length,
        unit: SCENARIOS[scenario].unit,
        concurrency: SCENARIOS[scenario].concurrency,
        throughput: median(measured.map((run) => run.throughput)),
        p50Ms: median(measured.map((run) => run.p50Ms)),
        p99Ms: median(measured.map((run) => run.p99Ms)),
        serverCpuUsPerOp: median(measured.map((run) => run.serverCpuUsPerOp)),
        dbCpuUsPerOp: db.length > 0 ? median(db) : null,
        driverCpuUsPerOp: median(measured.map((run) => run.driverCpuUsPerOp)),
        otherBusyCores: median(measured.map((run) => run.otherBusyCores)),
        throughputs: mine.map((run) => run.throughput),
        vsCeiling: null,
        vsPeer: null,
        cpuVsPeer: null,
        errors: mine.reduce((sum, run) => sum + run.errors + run.warmupErrors, 0),
        flagged: mine.some((run) => run.errors > 0 || run.warmupErrors > 0 || run.fatal !== undefined),
        errorSamples: [...new Set(mine.flatMap((run) => run.errorSamples))].slice(0, 5),
      });
    }
  }
  for (const row of rows) {
    // A target on another runtime (`gatehouse-sqlite@node24`) is compared with the peer and the
    // ceiling on the same runtime when they ran, else with the ones on this process's runtime.
    const tag = row.target.includes('@') ? row.target.slice(row.target.indexOf('@')) : '';
    const byName = (name: string) =>
      rows.find((other) => other.scenario === row.scenario && other.target === `${name}${tag}`) ??
      rows.find((other) => other.scenario === row.scenario && other.target === name);
    const ceiling = byName(CEILING);
    const peer = byName(PEER);
    if (ceiling && row.target !== ceiling.target && ceiling.throughput > 0)
      row.vsCeiling = row.throughput / ceiling.throughput;
    if (peer && row.target !== peer.target && !row.target.startsWith(CEILING) && peer.throughput > 0) {
      row.vsPeer = row.throughput / peer.throughput;
      row.cpuVsPeer = row.serverCpuUsPerOp / peer.serverCpuUsPerOp;
    }
  }
  return rows;
}

/** The targets of issue 5, evaluated on this run's medians. */
export function evaluateGoals(rows: SummaryRow[]): Goal[] {
  const find = (scenario: ScenarioName, target: string) =>
    rows.find((row) => row.scenario === scenario && row.target === target);
  const ratioGoal = (label: string, scenario: ScenarioName, target: string, needed: number): Goal => {
    const row = find(scenario, target);
    if (!row || row.vsPeer === null || !Number.isFinite(row.vsPeer))
      return { goal: label, measured: 'not measured', met: null };
    const peer = find(scenario, PEER)!;
    const ceiling = find(scenario, CEILING);
    const perCpu =
      row.cpuVsPeer !== null && Number.isFinite(row.cpuVsPeer)
        ? ` · per server CPU-second ${fmtRatio(1 / row.cpuVsPeer)}`
        : '';
    const bound =
      ceiling && peer.throughput > 0 ? ` · the ceiling reaches ${fmtRatio(ceiling.throughput / peer.throughput)}` : '';
    return {
      goal: label,
      measured: `${fmtRatio(row.vsPeer)} (${fmt(row.throughput)} vs ${fmt(peer.throughput)} /s)${perCpu}${bound}`,
      met: !row.flagged && row.vsPeer >= needed,
    };
  };
  const cpu = find('code-flow-c32', 'gatehouse-sqlite');
  return [
    ratioGoal('SQLite: code flows/s ≥ 2.5× oidc-provider (32 concurrent)', 'code-flow-c32', 'gatehouse-sqlite', 2.5),
    ratioGoal('SQLite: code flows/s ≥ 2.5× oidc-provider (1 at a time)', 'code-flow-c1', 'gatehouse-sqlite', 2.5),
    ratioGoal('SQLite: client credentials ≥ 2× oidc-provider', 'client-credentials', 'gatehouse-sqlite', 2),
    ratioGoal(
      'PostgreSQL: code flows/s ≥ 1.5× oidc-provider (32 concurrent)',
      'code-flow-c32',
      'gatehouse-postgres',
      1.5,
    ),
    ratioGoal('PostgreSQL: client credentials ≥ 1.5× oidc-provider', 'client-credentials', 'gatehouse-postgres', 1.5),
    cpu && Number.isFinite(cpu.serverCpuUsPerOp)
      ? {
          goal: 'SQLite: server CPU per complete flow ≤ 400 µs',
          measured: `${fmt(cpu.serverCpuUsPerOp)} µs`,
          met: !cpu.flagged && cpu.serverCpuUsPerOp <= 400,
        }
      : { goal: 'SQLite: server CPU per complete flow ≤ 400 µs', measured: 'not measured', met: null },
  ];
}

export function fmt(value: number | null | undefined, digits?: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

function fmtRatio(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '–' : `${value.toFixed(2)}×`;
}

export interface ReportHeader {
  date: string;
  mode: string;
  machine: { cpuModel: string; cores: number; memoryGiB: number };
  node: string;
  versions: Record<string, string>;
  settings: { rounds: number; warmupMs: number; durationMs: number; niceness: number; priority: string };
  targets: { name: string; label: string; notes: Record<string, string> }[];
  skipped: { name: string; reason: string }[];
  quietWaitSeconds: number;
  /** Resident memory of each server process at the end of the run. */
  serverRssMiB: Record<string, number | null>;
}

export function markdown(header: ReportHeader, rows: SummaryRow[], goals: Goal[]): string {
  const lines: string[] = [];
  lines.push(`## Benchmark: ${header.date}${header.mode !== 'full' ? ` (${header.mode})` : ''}`);
  lines.push('');
  lines.push(
    `Machine: ${header.machine.cpuModel}, ${header.machine.cores} cores, ${header.machine.memoryGiB} GiB memory. Node ${header.node}.`,
  );
  lines.push(
    `Versions: ${Object.entries(header.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}.`,
  );
  lines.push(
    `Method: each target in its own process on 127.0.0.1, the load driver in another (fetch, keep-alive, closed loop); ` +
      `${fmt(header.settings.warmupMs / 1000, 1)} s warm-up, ${fmt(header.settings.durationMs / 1000, 1)} s measured, ` +
      `median of ${header.settings.rounds} interleaved run${header.settings.rounds === 1 ? '' : 's'} per cell. ` +
      `Server CPU = the server process's utime+stime (/proc) over the measured window ÷ operations; for PostgreSQL the database's own CPU is the "DB CPU" column.`,
  );
  for (const target of header.targets) {
    const notes = Object.values(target.notes);
    if (notes.length > 0) lines.push(`- ${target.label}: ${notes.join('; ')}`);
  }
  for (const skipped of header.skipped) lines.push(`- **${skipped.name} skipped**: ${skipped.reason}`);
  if (header.settings.niceness !== 0)
    lines.push(`- Servers and driver ran at ${header.settings.priority}; PostgreSQL at its own.`);
  if (header.quietWaitSeconds > 0)
    lines.push(
      `- Waited ${fmt(header.quietWaitSeconds, 0)} s in all for other work on the machine to finish before runs.`,
    );
  const rss = Object.entries(header.serverRssMiB).map(
    ([name, mib]) => `${name} ${mib === null ? '–' : `${fmt(mib, 0)} MiB`}`,
  );
  if (rss.length > 0) lines.push(`- Server memory (RSS) at the end: ${rss.join(', ')}.`);
  lines.push('');
  lines.push(
    '| scenario | target | ops/s | p50 ms | p99 ms | server CPU µs/op | DB CPU µs/op | × ceiling | × oidc-provider | CPU vs oidc-provider | errors |',
  );
  lines.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  let lastScenario = '';
  for (const row of rows) {
    const scenarioCell =
      row.scenario === lastScenario
        ? ''
        : `**${row.scenario}** (${row.unit === 'flow' ? 'flows' : 'requests'}, c=${row.concurrency})`;
    lastScenario = row.scenario;
    lines.push(
      `| ${scenarioCell} | ${row.target} | ${fmt(row.throughput)} | ${fmt(row.p50Ms)} | ${fmt(row.p99Ms)} | ${fmt(row.serverCpuUsPerOp)} | ${fmt(row.dbCpuUsPerOp)} | ${fmtRatio(row.vsCeiling)} | ${fmtRatio(row.vsPeer)} | ${fmtRatio(row.cpuVsPeer)} | ${row.flagged ? `**${row.errors} ⚠**` : '0'} |`,
    );
  }
  lines.push('');
  lines.push(
    'Goals (issue 5). "per server CPU-second" compares operations per second of server CPU (the inverse CPU ratio; for PostgreSQL without the database\'s CPU); "the ceiling reaches" is the bare Fastify server\'s throughput over the peer\'s, the most any server could show against the peer with this driver on this machine:',
  );
  lines.push('');
  lines.push('| goal | measured | met |');
  lines.push('|---|---|---|');
  for (const goal of goals)
    lines.push(`| ${goal.goal} | ${goal.measured} | ${goal.met === null ? '–' : goal.met ? 'yes' : '**no**'} |`);
  const flagged = rows.filter((row) => row.flagged);
  if (flagged.length > 0) {
    lines.push('');
    lines.push('**Runs with errors** (their numbers are not trustworthy):');
    for (const row of flagged) lines.push(`- ${row.scenario} / ${row.target}: ${row.errorSamples.join('; ')}`);
  }
  const noisy = rows.filter((row) => row.otherBusyCores > 0.3);
  lines.push('');
  lines.push(
    noisy.length > 0
      ? `Other load on the machine during some windows (median cores busy outside the measured processes > 0.3): ${noisy.map((row) => `${row.scenario}/${row.target} ${fmt(row.otherBusyCores)}`).join(', ')}. Throughput there is understated; CPU per operation is less affected.`
      : 'No significant other load on the machine during the measured windows.',
  );
  lines.push(
    'Notes: "ops" are requests, or complete flows (GET authorize with a session cookie and remembered consent → redirect with code → POST token with the PKCE verifier). ' +
      'The ceiling answers the same endpoints with small fixed JSON (a redirect for authorize) and checks nothing. ' +
      'oidc-provider cannot introspect JWT access tokens, so its introspection scenario introspects an opaque access token; Gatehouse introspects its JWT. ' +
      'The driver shares the 2 cores with the servers (and PostgreSQL), so throughput is a property of the whole machine; server CPU per operation is the server-only cost.' +
      (rows.some((row) => row.target.includes('@'))
        ? ' Targets named `@node24` ran on Node 24 (the driver did not); their × ceiling and × oidc-provider columns compare with the ceiling and oidc-provider on Node 24 when those ran, else with the ones on the first Node.'
        : ''),
  );
  return `${lines.join('\n')}\n`;
}
