/**
 * `npm run bench`: Gatehouse (SQLite, PostgreSQL) against oidc-provider and a bare Fastify
 * ceiling, on 127.0.0.1 only, in one run. See bench/README.md.
 *
 *   npm run bench                      full run (3 interleaved rounds; about 12 minutes)
 *   npm run bench -- --quick           smoke run (1 round, short windows; about 2 minutes)
 *   npm run bench -- --scenarios refresh,code-flow-c32 --targets gatehouse-sqlite,oidc-provider
 *   npm run bench -- --report-only     rewrite latest.md (and the summary in latest.json) from latest.json's runs
 *   npm run bench -- --node24          adds gatehouse-sqlite@node24 and oidc-provider@node24 (Node 24 from npm, cached)
 *   other options: --rounds N --warmup MS --duration MS --max-quiet-wait S --node-cache DIR
 *                  --nice N (run servers and driver at this niceness, e.g. -5 on a shared machine; needs root)
 *
 * Writes bench/results/latest.{json,md} (quick: quick.{json,md}) and prints the table.
 * Exits 2 when any run had errors.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, type ServerInfo } from './lib/common.js';
import { prepareNodeRuntime, type NodeRuntime } from './lib/node-runtime.js';
import {
  BENCH_DIR,
  CEILING_TARGET,
  onRuntime,
  PEER_TARGET,
  postgresTarget,
  REPO_DIR,
  runDriver,
  setNiceness,
  sqliteTarget,
  startServer,
  stopAllChildren,
  type RunningServer,
  type TargetDefinition,
} from './lib/processes.js';
import { machineDescription, machineTicks, clockTicksPerSecond, processRss } from './lib/proc.js';
import { evaluateGoals, fmt, markdown, summarize, type ReportHeader } from './lib/report.js';
import type { DriverResult } from './lib/results.js';
import { SCENARIO_NAMES, SCENARIOS, type ScenarioName } from './lib/scenarios.js';

const args = parseArgs(process.argv.slice(2));
const quick = args.has('quick');
const rounds = Number(args.get('rounds') ?? (quick ? 1 : 3));
const warmupMs = Number(args.get('warmup') ?? (quick ? 500 : 2000));
const durationMs = Number(args.get('duration') ?? (quick ? 1500 : 5000));
/** Seconds the whole run may spend waiting for other work on the machine to finish. */
const quietBudgetTotal = Number(args.get('max-quiet-wait') ?? (quick ? 15 : 60));
let quietBudgetSeconds = quietBudgetTotal;
const QUIET_THRESHOLD_CORES = 0.3;

const defaultTargets = ['gatehouse-sqlite', 'gatehouse-postgres', 'oidc-provider', 'ceiling'];
/**
 * `gatehouse-sqlite-inspector`: the same server with the flow inspector on (docs/inspector.md), to
 * compare its CPU per operation with gatehouse-sqlite's, e.g.
 * `npm run bench -- --quick --scenarios code-flow-c32 --targets gatehouse-sqlite,gatehouse-sqlite-inspector`.
 */
/**
 * `gatehouse-sqlite-no-request-log`: the same server with logging off, to show what its request
 * logs cost (issue 14 measures with them on, so gatehouse-sqlite keeps them).
 */
const baseTargets = [...defaultTargets, 'gatehouse-sqlite-inspector', 'gatehouse-sqlite-no-request-log'];
/**
 * `--node24`: the same targets on Node 24 too, named `<target>@node24` (bench/lib/node-runtime.ts
 * installs it from the npm registry once, into a cache outside git). Without --targets, it adds
 * gatehouse-sqlite@node24 and oidc-provider@node24 to the default targets; with --targets, name
 * the @node24 targets there (any target can take the suffix).
 */
const RUNTIME_SUFFIX = '@node24';
const node24 = args.has('node24') || (args.get('targets')?.includes(RUNTIME_SUFFIX) ?? false);
const allTargets = [...baseTargets, ...(node24 ? baseTargets.map((name) => `${name}${RUNTIME_SUFFIX}`) : [])];
const wantedTargets =
  args.get('targets')?.split(',') ??
  (node24
    ? [...defaultTargets, `gatehouse-sqlite${RUNTIME_SUFFIX}`, `oidc-provider${RUNTIME_SUFFIX}`]
    : defaultTargets);
const wantedScenarios = (args.get('scenarios')?.split(',') ?? [...SCENARIO_NAMES]) as ScenarioName[];
for (const target of wantedTargets)
  if (!allTargets.includes(target)) throw new Error(`unknown target ${target}; known: ${allTargets.join(', ')}`);
for (const scenario of wantedScenarios)
  if (!(scenario in SCENARIOS)) throw new Error(`unknown scenario ${scenario}; known: ${SCENARIO_NAMES.join(', ')}`);
if (!(rounds >= 1 && warmupMs >= 0 && durationMs >= 200))
  throw new Error('need --rounds >= 1, --warmup >= 0, --duration >= 200');
const niceness = Number(args.get('nice') ?? 0);
const priority = setNiceness(niceness);
const partial = args.has('targets') || args.has('scenarios');
const mode = `${quick ? 'quick' : 'full'}${partial ? ', partial' : ''}`;

const log = (message: string) => process.stderr.write(`${message}\n`);
const began = Date.now();
const elapsed = () => {
  const seconds = Math.round((Date.now() - began) / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
};

interface Started {
  definition: TargetDefinition;
  server: RunningServer;
  cleanup(): Promise<void>;
  notes: Record<string, string>;
}

if (args.has('report-only')) {
  const path = join(BENCH_DIR, 'results', quick ? 'quick.json' : 'latest.json');
  const saved = JSON.parse(readFileSync(path, 'utf8')) as ReportHeader & {
    runs: DriverResult[];
    scenarios: Record<string, unknown>;
    serverRssBytesAtEnd?: Record<string, number | null>;
  };
  // Results written before the header had serverRssMiB kept the bytes under another name.
  if (saved.serverRssMiB === undefined) {
    saved.serverRssMiB = Object.fromEntries(
      Object.entries(saved.serverRssBytesAtEnd ?? {}).map(([name, bytes]) => [
        name,
        bytes == null ? null : bytes / 2 ** 20,
      ]),
    );
    delete saved.serverRssBytesAtEnd;
  }
  const scenarios = SCENARIO_NAMES.filter((name) => name in saved.scenarios);
  const names = saved.targets.map((target) => target.name);
  const rows = summarize(saved.runs, scenarios, names);
  const goals = evaluateGoals(rows);
  const table = markdown(saved, rows, goals);
  await writeFile(`${path}.tmp`, `${JSON.stringify({ ...saved, summary: rows, goals }, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  const mdPath = path.replace(/\.json$/, '.md');
  await writeFile(`${mdPath}.tmp`, table);
  await rename(`${mdPath}.tmp`, mdPath);
  process.stdout.write(table);
  process.exit(0);
}

const runtime: NodeRuntime | undefined = node24
  ? prepareNodeRuntime(24, args.get('node-cache'), (line) => log(line))
  : undefined;
const definitions: TargetDefinition[] = [];
for (const wanted of wantedTargets) {
  const onNode24 = wanted.endsWith(RUNTIME_SUFFIX);
  const name = onNode24 ? wanted.slice(0, -RUNTIME_SUFFIX.length) : wanted;
  const count = definitions.length;
  if (name === 'gatehouse-sqlite') definitions.push(await sqliteTarget());
  if (name === 'gatehouse-sqlite-inspector') definitions.push(await sqliteTarget({ inspector: true }));
  if (name === 'gatehouse-sqlite-no-request-log') definitions.push(await sqliteTarget({ requestLogs: false }));
  if (name === 'gatehouse-postgres') definitions.push(await postgresTarget());
  if (name === 'oidc-provider') definitions.push(PEER_TARGET);
  if (name === 'ceiling') definitions.push(CEILING_TARGET);
  if (onNode24 && runtime && definitions.length > count) definitions.push(onRuntime(definitions.pop()!, runtime));
}

const started: Started[] = [];
const skipped: { name: string; reason: string }[] = [];
let interrupted = false;

async function shutdown(): Promise<void> {
  for (const target of started.splice(0)) {
    await target.server.stop().catch(() => {});
    await target
      .cleanup()
      .catch((error: unknown) => log(`cleanup of ${target.definition.name} failed: ${String(error)}`));
  }
}

process.on('SIGINT', () => {
  if (interrupted) return;
  interrupted = true;
  log('interrupted: stopping the servers');
  stopAllChildren();
  void shutdown().finally(() => process.exit(130));
});

/** Waits (within the run's budget) until the machine is idle apart from our idle servers. */
async function waitForQuiet(): Promise<number> {
  const ticks = clockTicksPerSecond();
  let busyCores = 0;
  while (true) {
    const before = machineTicks();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = machineTicks();
    busyCores = (after.busy - before.busy) / ticks / 0.5;
    if (busyCores <= QUIET_THRESHOLD_CORES || quietBudgetSeconds <= 0) return busyCores;
    quietBudgetSeconds -= 0.5;
  }
}

function readVersion(pkg: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(REPO_DIR, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'not installed';
  }
}

function gatehouseVersion(): string {
  const version = (JSON.parse(readFileSync(join(REPO_DIR, 'package.json'), 'utf8')) as { version: string }).version;
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_DIR, encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_DIR, encoding: 'utf8' }).trim() !== '';
    return `${version} (${commit}${dirty ? ', with uncommitted changes in src/' : ''})`;
  } catch {
    return version;
  }
}

async function sqliteVersion(): Promise<string> {
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(':memory:');
  try {
    return (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}

const runs: DriverResult[] = [];
let exitCode = 0;
try {
  for (const definition of definitions) {
    const prepared = await definition.prepare();
    if ('skip' in prepared) {
      log(`skipping ${definition.name}: ${prepared.skip}`);
      skipped.push({ name: definition.name, reason: prepared.skip });
      continue;
    }
    log(`[${elapsed()}] starting ${definition.label}`);
    try {
      const server = await startServer(definition.script, prepared.args, { runtime: definition.runtime });
      started.push({
        definition,
        server,
        cleanup: prepared.cleanup,
        notes: { ...prepared.notes, ...server.info.notes },
      });
    } catch (error) {
      await prepared.cleanup();
      throw error;
    }
  }
  if (started.length === 0) throw new Error('no target could be started');

  const total = wantedScenarios.length * rounds * started.length;
  let done = 0;
  for (const scenario of wantedScenarios) {
    for (let round = 0; round < rounds; round++) {
      // Interleave: every target once per round, starting with a different one each round.
      for (let position = 0; position < started.length; position++) {
        const target = started[(position + round) % started.length]!;
        const busyBefore = await waitForQuiet();
        const result = await runDriver(
          {
            target: target.definition.name,
            server: target.server.info,
            scenario,
            warmupMs,
            durationMs,
            measurePostgres: target.definition.measurePostgres,
          },
          warmupMs + durationMs + 180_000,
        );
        runs.push(result);
        done++;
        log(
          `[${elapsed()}] ${String(done).padStart(3)}/${total} ${scenario} r${round + 1} ${target.definition.name.padEnd(18)} ` +
            `${fmt(result.throughput).padStart(7)} ops/s  p50 ${fmt(result.p50Ms)} ms  p99 ${fmt(result.p99Ms)} ms  ` +
            `server ${fmt(result.serverCpuUsPerOp)} µs/op${result.dbCpuUsPerOp !== null ? `  db ${fmt(result.dbCpuUsPerOp)} µs/op` : ''}  ` +
            `driver ${fmt(result.driverCpuUsPerOp)} µs/op  other ${fmt(result.otherBusyCores)} cores` +
            (busyBefore > QUIET_THRESHOLD_CORES ? ` (machine busy before: ${fmt(busyBefore)} cores)` : '') +
            (result.errors + result.warmupErrors > 0
              ? `  ERRORS ${result.errors + result.warmupErrors}: ${result.errorSamples[0]}`
              : ''),
        );
        if (target.server.child.exitCode !== null)
          throw new Error(`${target.definition.name} exited: ${target.server.stderr().slice(-2000)}`);
      }
    }
  }

  const rss = Object.fromEntries(started.map((target) => [target.definition.name, processRss(target.server.info.pid)]));
  const targetNames = started.map((target) => target.definition.name);
  const rows = summarize(runs, wantedScenarios, targetNames);
  const goals = evaluateGoals(rows);
  const header: ReportHeader = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    mode,
    machine: machineDescription(),
    node: runtime ? `${process.version} (targets named ${RUNTIME_SUFFIX}: ${runtime.version})` : process.version,
    versions: {
      gatehouse: gatehouseVersion(),
      'oidc-provider': readVersion('oidc-provider'),
      fastify: readVersion('fastify'),
      kysely: readVersion('kysely'),
      'better-sqlite3': readVersion('better-sqlite3'),
      SQLite: await sqliteVersion(),
      pg: readVersion('pg'),
      jose: readVersion('jose'),
      undici: process.versions.undici ?? 'unknown',
    },
    settings: { rounds, warmupMs, durationMs, niceness, priority },
    targets: started.map((target) => ({
      name: target.definition.name,
      label: target.definition.label,
      notes: target.notes,
    })),
    skipped,
    quietWaitSeconds: quietBudgetTotal - quietBudgetSeconds,
    serverRssMiB: Object.fromEntries(
      Object.entries(rss).map(([name, bytes]) => [name, bytes === undefined ? null : bytes / 2 ** 20]),
    ),
  };
  const table = markdown(header, rows, goals);
  const resultsDir = join(BENCH_DIR, 'results');
  await mkdir(resultsDir, { recursive: true });
  const base = quick ? 'quick' : 'latest';
  const publicInfo = (info: ServerInfo) => ({
    kind: info.kind,
    issuer: info.issuer,
    endpoints: info.endpoints,
    notes: info.notes,
  });
  const json = {
    ...header,
    scenarios: Object.fromEntries(
      wantedScenarios.map((name) => [
        name,
        {
          description: SCENARIOS[name].description,
          concurrency: SCENARIOS[name].concurrency,
          unit: SCENARIOS[name].unit,
        },
      ]),
    ),
    servers: Object.fromEntries(started.map((target) => [target.definition.name, publicInfo(target.server.info)])),
    summary: rows,
    goals,
    runs,
    elapsedSeconds: Math.round((Date.now() - began) / 1000),
  };
  for (const [name, content] of [
    [`${base}.json`, `${JSON.stringify(json, null, 2)}\n`],
    [`${base}.md`, table],
  ] as const) {
    await writeFile(join(resultsDir, `${name}.tmp`), content);
    await rename(join(resultsDir, `${name}.tmp`), join(resultsDir, name));
  }
  process.stdout.write(`\n${table}\nWrote bench/results/${base}.json and bench/results/${base}.md (${elapsed()}).\n`);
  if (rows.some((row) => row.flagged)) exitCode = 2;
} catch (error) {
  log(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await shutdown();
}
process.exit(exitCode);
