/**
 * Where Gatehouse's time goes: runs Gatehouse on SQLite under `node --cpu-prof`, drives one
 * scenario at it (default: the complete code flow, 32 concurrent), stops it cleanly so the
 * profile is written, and prints the functions with the most self time during the measured
 * window (plus the same by package/file, and the Gatehouse functions with the most total time).
 *
 *   node --import tsx bench/profile.ts [--scenario code-flow-c32] [--duration 8000] [--warmup 2000]
 *                                      [--top 15] [--target gatehouse-sqlite|gatehouse-postgres] [--nice N]
 *
 * Writes the summary to bench/results/profile.md; the .cpuprofile stays in a temp directory
 * (its path is printed) for Chrome DevTools or speedscope.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from './lib/common.js';
import { driveMeasured, ownerOfScript, repositoryPath } from './lib/profiling.js';
import * as processes from './lib/processes.js';
import { fmt } from './lib/report.js';
import { SCENARIOS, type ScenarioName } from './lib/scenarios.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = parseArgs(process.argv.slice(2));
const scenario = (args.get('scenario') ?? 'code-flow-c32') as ScenarioName;
if (!(scenario in SCENARIOS)) throw new Error(`unknown scenario ${scenario}`);
const warmupMs = Number(args.get('warmup') ?? 2000);
const durationMs = Number(args.get('duration') ?? 8000);
const top = Number(args.get('top') ?? 15);
const targetName = args.get('target') ?? 'gatehouse-sqlite';
processes.setNiceness(Number(args.get('nice') ?? 0));
const log = (message: string) => process.stderr.write(`${message}\n`);

process.on('SIGINT', () => {
  processes.stopAllChildren();
  process.exit(130);
});

const target = targetName === 'gatehouse-postgres' ? await processes.postgresTarget() : await processes.sqliteTarget();
const prepared = await target.prepare();
if ('skip' in prepared) throw new Error(`${targetName} unavailable: ${prepared.skip}`);
const profileDir = await mkdtemp(join(tmpdir(), 'gatehouse-profile-'));
let profilePath: string;
let driverSummary: string;
let windowUs: [number, number];
try {
  log(`starting ${target.label} under --cpu-prof`);
  const server = await processes.startServer(target.script, prepared.args, {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
  });
  try {
    log(`driving ${scenario} (${warmupMs} ms warm-up, ${durationMs} ms measured)`);
    const result = await driveMeasured(target, targetName, server, scenario, warmupMs, durationMs);
    windowUs = result.windowMonotonicUs;
    driverSummary =
      `${scenario} on ${targetName} under the profiler: ${fmt(result.throughput)} ${SCENARIOS[scenario].unit}s/s, p50 ${fmt(result.p50Ms)} ms, ` +
      `server CPU ${fmt(result.serverCpuUsPerOp)} µs/op (profiling adds overhead), ${result.ops} ops in ${fmt(result.windowSeconds)} s`;
  } finally {
    await server.stop();
  }
  const files = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile written in ${profileDir}`);
  profilePath = join(
    profileDir,
    files.sort((a, b) => statSync(join(profileDir, b)).size - statSync(join(profileDir, a)).size)[0]!,
  );
} finally {
  await prepared.cleanup();
}

const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile;

function keyOf(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  return `${name}  ${repositoryPath(frame.url)}:${frame.lineNumber + 1}`;
}

function packageOf(frame: CallFrame): string {
  const path = repositoryPath(frame.url);
  if (path === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native/builtin)';
  return ownerOfScript(path);
}

const byId = new Map<number, ProfileNode>();
const parent = new Map<number, number>();
for (const node of profile.nodes) {
  byId.set(node.id, node);
  for (const child of node.children ?? []) parent.set(child, node.id);
}

const self = new Map<string, number>();
const selfByPackage = new Map<string, number>();
const inclusive = new Map<string, number>();
let time = profile.startTime;
let windowTotal = 0;
let idle = 0;
const [from, to] = windowUs;
const inWindowAvailable = from >= profile.startTime && to <= profile.endTime;
for (let index = 0; index < profile.samples.length; index++) {
  time += profile.timeDeltas[index] ?? 0;
  if (inWindowAvailable && (time < from || time > to)) continue;
  const delta = profile.timeDeltas[index + 1] ?? 0;
  const node = byId.get(profile.samples[index]!)!;
  windowTotal += delta;
  if (node.callFrame.functionName === '(idle)') {
    idle += delta;
    continue;
  }
  const key = keyOf(node.callFrame);
  self.set(key, (self.get(key) ?? 0) + delta);
  const pkg = packageOf(node.callFrame);
  selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + delta);
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const frame = byId.get(id)!.callFrame;
    const frameKey = keyOf(frame);
    if (seen.has(frameKey)) continue;
    seen.add(frameKey);
    inclusive.set(frameKey, (inclusive.get(frameKey) ?? 0) + delta);
  }
}

const busy = windowTotal - idle;
const pct = (value: number) => `${((value / busy) * 100).toFixed(1)}%`;
const ms = (value: number) => (value / 1000).toFixed(1);
const ranked = (map: Map<string, number>, count: number, filter: (key: string) => boolean = () => true) =>
  [...map]
    .filter(([key]) => filter(key))
    .sort((a, b) => b[1] - a[1])
    .slice(0, count);

const out: string[] = [];
out.push(`## CPU profile: ${scenario} on ${targetName}, ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`);
out.push('');
out.push(driverSummary);
out.push(
  `Main thread over the measured window${inWindowAvailable ? '' : ' (window not found in the profile: whole profile)'}: ` +
    `${ms(windowTotal)} ms sampled, ${ms(busy)} ms busy (${((busy / windowTotal) * 100).toFixed(0)}%), ${ms(idle)} ms idle. Percentages are of busy time. ` +
    'V8 samples on wall-clock time: on a machine busy with other work, time the thread spends descheduled is charged to whatever it was running (use a quiet machine, or --nice).',
);
out.push('');
out.push(`### Top ${top} functions by self time`);
out.push('');
out.push('| # | self ms | self % | function  location |');
out.push('|--:|--:|--:|---|');
for (const [index, [key, value]] of ranked(self, top).entries())
  out.push(`| ${index + 1} | ${ms(value)} | ${pct(value)} | \`${key}\` |`);
out.push('');
out.push('### Self time by package / file');
out.push('');
out.push('| self ms | self % | package or file |');
out.push('|--:|--:|---|');
for (const [key, value] of ranked(selfByPackage, 15)) out.push(`| ${ms(value)} | ${pct(value)} | ${key} |`);
out.push('');
out.push('### Gatehouse functions by total (inclusive) time');
out.push('');
out.push('| total ms | total % | function  location |');
out.push('|--:|--:|---|');
for (const [key, value] of ranked(inclusive, 20, (key) => / {2}(src|dist)\//.test(key)))
  out.push(`| ${ms(value)} | ${pct(value)} | \`${key}\` |`);
out.push('');
out.push(`Profile: ${profilePath}`);
const text = `${out.join('\n')}\n`;
await mkdir(join(processes.BENCH_DIR, 'results'), { recursive: true });
await writeFile(join(processes.BENCH_DIR, 'results', 'profile.md'), text);
process.stdout.write(text);
process.exit(0);
