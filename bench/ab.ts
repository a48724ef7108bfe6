/**
 * Before and after: the server CPU per operation of an earlier commit against the working tree,
 * measured in alternation, so that the VM's drift (a quarter, up and down, over minutes) falls on
 * both sides alike. A full `npm run bench` runs each side minutes apart and compares each with the
 * peer; a change of 10% to Gatehouse alone is lost in that noise, and shows here.
 *
 *   node --import tsx bench/ab.ts --base COMMIT [--scenarios code-flow-c32,refresh] [--pairs 3]
 *                                 [--target gatehouse-sqlite] [--warmup 2000] [--duration 5000]
 *
 * Checks the base commit out into a temporary git worktree (its node_modules linked to this
 * tree's), builds both trees, then for each scenario runs `npm run bench -- --quick` with one
 * round of the one target in the base tree and in this one, `--pairs` times, the side that
 * starts alternating; each run's server CPU per operation comes from that tree's
 * bench/results/quick.json. Prints each pair and the median of the after/before ratios. The
 * worktree is removed at the end.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from './lib/common.js';
import { REPO_DIR } from './lib/processes.js';
import { median } from './lib/report.js';

const args = parseArgs(process.argv.slice(2));
const base = args.get('base');
if (base === undefined) throw new Error('--base COMMIT is required (the commit to compare the working tree with)');
const scenarios = (args.get('scenarios') ?? 'code-flow-c32').split(',');
const pairs = Number(args.get('pairs') ?? 3);
const target = args.get('target') ?? 'gatehouse-sqlite';
const warmup = args.get('warmup') ?? '2000';
const duration = args.get('duration') ?? '5000';
if (!Number.isSafeInteger(pairs) || pairs < 1) throw new Error('--pairs must be a positive integer');

function run(command: string, commandArgs: string[], cwd: string): string {
  const result = spawnSync(command, commandArgs, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0)
    throw new Error(`${command} ${commandArgs.join(' ')} in ${cwd} failed:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

const revision = run('git', ['rev-parse', '--short', base], REPO_DIR).trim();
const worktree = join(mkdtempSync(join(tmpdir(), 'gatehouse-ab-')), 'base');
run('git', ['worktree', 'add', '--detach', worktree, revision], REPO_DIR);
try {
  symlinkSync(join(REPO_DIR, 'node_modules'), join(worktree, 'node_modules'));
  for (const tree of [worktree, REPO_DIR]) run('npm', ['run', 'build'], tree);

  /** One quick run of `scenario` in `tree`: the target's server CPU per operation (µs). */
  const measure = (tree: string, scenario: string): number => {
    run(
      'npm',
      [
        'run',
        'bench',
        '--',
        '--quick',
        '--rounds',
        '1',
        '--warmup',
        warmup,
        '--duration',
        duration,
        '--scenarios',
        scenario,
        '--targets',
        target,
      ],
      tree,
    );
    const results = JSON.parse(readFileSync(join(tree, 'bench', 'results', 'quick.json'), 'utf8')) as {
      runs: Array<{ target: string; scenario: string; serverCpuUsPerOp: number }>;
    };
    const found = results.runs.find((entry) => entry.target === target && entry.scenario === scenario);
    if (found === undefined) throw new Error(`no ${target} run of ${scenario} in ${tree}`);
    return found.serverCpuUsPerOp;
  };

  const lines = [
    `## ${target}: ${revision} (before) against the working tree (after), server CPU µs per operation`,
    '',
    '| scenario | pair | before | after | after / before |',
    '|---|--:|--:|--:|--:|',
  ];
  const summary: string[] = [];
  for (const scenario of scenarios) {
    const ratios: number[] = [];
    for (let pair = 1; pair <= pairs; pair++) {
      const sides = pair % 2 === 1 ? (['before', 'after'] as const) : (['after', 'before'] as const);
      const cpu: Record<'before' | 'after', number> = { before: 0, after: 0 };
      for (const side of sides) cpu[side] = measure(side === 'before' ? worktree : REPO_DIR, scenario);
      ratios.push(cpu.after / cpu.before);
      const line = `| ${scenario} | ${pair} | ${cpu.before.toFixed(0)} | ${cpu.after.toFixed(0)} | ${(cpu.after / cpu.before).toFixed(2)} |`;
      lines.push(line);
      process.stderr.write(`${line}\n`);
    }
    summary.push(`- ${scenario}: median after / before ${median(ratios).toFixed(2)} over ${pairs} pairs`);
  }
  process.stdout.write(`${[...lines, '', ...summary].join('\n')}\n`);
} finally {
  spawnSync('git', ['worktree', 'remove', '--force', worktree], { cwd: REPO_DIR });
  rmSync(join(worktree, '..'), { recursive: true, force: true });
}
