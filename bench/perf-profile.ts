/**
 * Where a server's CPU goes, native code and every thread included: runs the target under load
 * (one scenario, as `npm run bench` drives it) and samples it with Linux `perf record -g` over
 * the measured window. bench/profile.ts (V8's --cpu-prof) sees the main thread's JavaScript; this
 * also sees what that JavaScript calls into (SQLite inside better-sqlite3, OpenSSL, the kernel's
 * write and read calls), V8's garbage collector and its background compiler threads.
 *
 *   node --import tsx bench/perf-profile.ts [--scenario code-flow-c32] [--target gatehouse-sqlite]
 *        [--warmup 3000] [--duration 8000] [--frequency 999] [--top 25] [--under SYMBOL]
 *
 * Targets: gatehouse-sqlite, gatehouse-postgres, oidc-provider, ceiling. Needs `perf` (Debian:
 * `apt-get install linux-perf`) and permission to sample another process (root, or
 * `kernel.perf_event_paranoid` ≤ 1). JavaScript frames are named through the server's
 * --perf-basic-prof-only-functions map. Prints a Markdown summary and writes it to
 * bench/results/perf-<scenario>.md; `--under SYMBOL` adds what runs beneath the outermost frame whose symbol contains SYMBOL
 * (e.g. `--under pagerWalFrames`, `--under Statement::JS_all`).
 *
 * Percentages are of all samples of the server's process (every thread). The categories
 * overlap (a WAL write is SQLite too); "innermost JavaScript" charges each sample, native code
 * included, to the nearest JavaScript function on its stack.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from './lib/common.js';
import { driveMeasured, ownerOfScript, repositoryPath } from './lib/profiling.js';
import * as processes from './lib/processes.js';
import { fmt } from './lib/report.js';
import { SCENARIOS, type ScenarioName } from './lib/scenarios.js';

const args = parseArgs(process.argv.slice(2));
const scenario = (args.get('scenario') ?? 'code-flow-c32') as ScenarioName;
if (!(scenario in SCENARIOS)) throw new Error(`unknown scenario ${scenario}`);
const targetName = args.get('target') ?? 'gatehouse-sqlite';
const warmupMs = Number(args.get('warmup') ?? 3000);
const durationMs = Number(args.get('duration') ?? 8000);
const frequency = Number(args.get('frequency') ?? 999);
const top = Number(args.get('top') ?? 25);
const under = args.get('under');
const log = (message: string) => process.stderr.write(`${message}\n`);

const version = spawnSync('perf', ['--version'], { encoding: 'utf8' });
if (version.status !== 0) {
  log('perf is not installed (Debian: apt-get install linux-perf)');
  process.exit(1);
}
const paranoid = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim());
if (paranoid > 1 && process.getuid?.() !== 0) {
  log(`kernel.perf_event_paranoid is ${paranoid}: run as root, or lower it (sysctl kernel.perf_event_paranoid=1)`);
  process.exit(1);
}

const targets: Record<string, () => Promise<processes.TargetDefinition>> = {
  'gatehouse-sqlite': () => processes.sqliteTarget(),
  'gatehouse-postgres': () => processes.postgresTarget(),
  'oidc-provider': async () => processes.PEER_TARGET,
  ceiling: async () => processes.CEILING_TARGET,
};
const makeTarget = targets[targetName];
if (makeTarget === undefined) throw new Error(`unknown target ${targetName}: ${Object.keys(targets).join(', ')}`);
const target = await makeTarget();
const prepared = await target.prepare();
if ('skip' in prepared) throw new Error(`${targetName} unavailable: ${prepared.skip}`);

const work = mkdtempSync(join(tmpdir(), 'gatehouse-perf-'));
const dataFile = join(work, 'perf.data');
let summary: string;
try {
  const server = await processes.startServer(target.script, prepared.args, {
    nodeArgs: ['--perf-basic-prof-only-functions'],
  });
  let recorded: Promise<number | null> = Promise.resolve(null);
  try {
    log(`driving ${scenario} at ${target.label} (${warmupMs} ms warm-up, ${durationMs} ms sampled with perf)`);
    const timer = setTimeout(() => {
      const seconds = (durationMs / 1000).toFixed(1);
      const perf = spawn(
        'perf',
        [
          'record',
          '-e',
          'cpu-clock',
          '-F',
          String(frequency),
          '-g',
          '-p',
          String(server.info.pid),
          '-o',
          dataFile,
          '--',
          'sleep',
          seconds,
        ],
        { stdio: 'ignore' },
      );
      recorded = new Promise((resolve) => perf.on('exit', resolve));
    }, warmupMs);
    const result = await driveMeasured(target, targetName, server, scenario, warmupMs, durationMs);
    clearTimeout(timer);
    const status = await recorded;
    if (status !== 0) throw new Error(`perf record exited with ${status}`);
    summary =
      `${scenario} on ${target.label}: ${fmt(result.throughput)} ${SCENARIOS[scenario].unit}s/s, server CPU ` +
      `${fmt(result.serverCpuUsPerOp)} µs/op under perf (sampling adds a little), ${result.ops} ops in ${fmt(result.windowSeconds)} s`;
  } finally {
    await server.stop();
  }
} finally {
  await prepared.cleanup();
}

// --- perf script: one sample per block, its frames innermost first ------------------------------

interface Frame {
  symbol: string;
  dso: string;
}
const FRAME = /^\s+[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)$/;
const JS_FRAME = /^JS:[*~^+]?(\S*)\s+(\S+?):\d+:\d+$/;

/** A JavaScript frame's function and file (relative to the repository), or undefined. */
function javascript(frame: Frame): { name: string; file: string } | undefined {
  const match = JS_FRAME.exec(frame.symbol);
  if (match === null) return undefined;
  return { name: match[1] || '(anonymous)', file: repositoryPath(match[2]!) };
}

const CATEGORIES: Array<[string, (frames: Frame[]) => boolean]> = [
  ['SQLite (better-sqlite3 and below)', (frames) => frames.some((f) => f.dso.includes('better_sqlite3'))],
  [
    '… its WAL writes at COMMIT (pagerWalFrames)',
    (frames) => frames.some((f) => f.symbol.startsWith('pagerWalFrames')),
  ],
  [
    '… its locks (fcntl)',
    (frames) => frames.some((f) => f.symbol.includes('fcntl')) && frames.some((f) => f.dso.includes('better_sqlite3')),
  ],
  [
    'OpenSSL (signatures, hashes, ciphers, random)',
    (frames) => frames.some((f) => /libcrypto|ecp_nistz256|sha256_block|EVP_|aes_|gcm_/.test(f.dso + f.symbol)),
  ],
  [
    'garbage collection',
    (frames) => frames.some((f) => /Heap::|Scavenge|MarkCompact|Sweeper|ConcurrentMarking|GCTracer/.test(f.symbol)),
  ],
  [
    'JIT compilation',
    (frames) => frames.some((f) => /compiler::|Maglev|TurboFan|Compiler::|CompileLazy|Sparkplug/.test(f.symbol)),
  ],
  ['kernel: socket writes', (frames) => frames.some((f) => /__x64_sys_writev|do_writev|tcp_sendmsg/.test(f.symbol))],
  ['kernel: socket reads', (frames) => frames.some((f) => /tcp_recvmsg|sock_read_iter/.test(f.symbol))],
  ['epoll', (frames) => frames.some((f) => f.symbol.includes('epoll'))],
];

const categories = new Map<string, number>();
const owners = new Map<string, number>();
const innermost = new Map<string, number>();
const nativeSelf = new Map<string, number>();
const threads = new Map<string, number>();
const beneath = new Map<string, number>();
let samples = 0;
let beneathSamples = 0;
const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

function account(thread: string, frames: Frame[]): void {
  if (frames.length === 0) return;
  samples++;
  // Linux names every thread of a Node.js process `node`: the stack tells the main thread apart.
  add(
    threads,
    frames.some((f) => /SpinEventLoop|uv_run/.test(f.symbol))
      ? 'main thread (event loop)'
      : `other threads of ${thread} (V8's GC and compiler workers, libuv's pool)`,
  );
  for (const [name, test] of CATEGORIES) if (test(frames)) add(categories, name);
  const js = frames.map(javascript).find((found) => found !== undefined);
  add(
    owners,
    js === undefined ? '(no JavaScript frame: the event loop, the kernel, V8 itself)' : ownerOfScript(js.file),
  );
  if (js !== undefined) add(innermost, `${js.name}  ${js.file}`);
  add(nativeSelf, `${frames[0]!.symbol.replace(/\+0x[0-9a-f]+$/, '')}  (${frames[0]!.dso.split('/').pop()})`);
  if (under !== undefined) {
    let at = -1;
    for (let index = frames.length - 1; index >= 0 && at < 0; index--)
      if (frames[index]!.symbol.includes(under)) at = index;
    if (at >= 0) {
      beneathSamples++;
      for (const symbol of new Set(frames.slice(0, at).map((f) => f.symbol.replace(/\+0x[0-9a-f]+$/, ''))))
        add(beneath, symbol);
    }
  }
}

const script = spawn('perf', ['script', '-i', dataFile, '-F', 'comm,ip,sym,dso'], {
  stdio: ['ignore', 'pipe', 'ignore'],
});
let thread = '';
let frames: Frame[] = [];
for await (const line of createInterface({ input: script.stdout })) {
  const frame = FRAME.exec(line);
  if (frame !== null) {
    frames.push({ symbol: frame[1]!, dso: frame[2]! });
    continue;
  }
  if (line.trim() === '') continue;
  account(thread, frames);
  frames = [];
  thread = line.trim().replace(/:$/, '');
}
account(thread, frames);
rmSync(work, { recursive: true, force: true });
if (samples === 0) throw new Error('perf recorded no samples');

const percent = (count: number) => `${((100 * count) / samples).toFixed(1)}%`;
const table = (title: string, map: Map<string, number>, limit: number, heading: string) => [
  `### ${title}`,
  '',
  `| share | ${heading} |`,
  '|--:|---|',
  ...[...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, count]) => `| ${percent(count)} | \`${key.replaceAll('|', '\\|')}\` |`),
  '',
];
const lines = [
  `## perf profile: ${scenario} on ${targetName}, ${new Date().toISOString().slice(0, 19)}Z`,
  '',
  summary,
  `${samples.toLocaleString('en')} samples of every thread at ${frequency} Hz (${version.stdout.trim()}).`,
  '',
  ...table('Categories (overlapping)', categories, CATEGORIES.length, 'what'),
  ...table('Threads', threads, 10, 'thread'),
  ...table('Innermost JavaScript, by package or file (native code charged to its caller)', owners, top, 'owner'),
  ...table('Innermost JavaScript function', innermost, top, 'function  file'),
  ...table('Native self time', nativeSelf, top, 'symbol  (object)'),
  ...(under !== undefined
    ? [
        `Beneath \`${under}\`: ${percent(beneathSamples)} of the samples.`,
        '',
        ...table(`Beneath ${under} (inclusive)`, beneath, top, 'symbol'),
      ]
    : []),
];
const text = lines.join('\n');
const out = join(processes.BENCH_DIR, 'results', `perf-${scenario}.md`);
writeFileSync(out, `${text}\n`);
process.stdout.write(`${text}\nWritten to ${out}\n`);
