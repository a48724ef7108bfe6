/**
 * How many SQL statements one operation costs, and how long SQLite takes for them: starts the
 * benchmark's Gatehouse on SQLite (a WAL file in a temp directory, as `npm run bench` does) with
 * every statement execution counted and timed (bench/lib/statement-counter.ts), runs each
 * scenario's operation a number of times after its setup, and prints the statements per
 * operation, which, and the time per execution.
 *
 *   node --import tsx bench/statements.ts [--scenarios code-flow-c1,refresh] [--ops 200] [--database sqlite::memory:]
 *
 * A diagnostic for the profile's top item (SQLite execution): fewer statements per operation is
 * the root fix, not faster ones.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from './lib/common.js';
import { startServer, stopAllChildren } from './lib/processes.js';
import { STATEMENTS_PREFIX, type StatementCount } from './lib/statement-counter.js';
import { SCENARIOS, SCENARIO_NAMES, type ScenarioName } from './lib/scenarios.js';

const args = parseArgs(process.argv.slice(2));
const scenarios = (args.get('scenarios') ?? 'code-flow-c1,client-credentials,refresh,introspection').split(
  ',',
) as ScenarioName[];
for (const name of scenarios) if (!SCENARIO_NAMES.includes(name)) throw new Error(`unknown scenario ${name}`);
const ops = Number(args.get('ops') ?? 200);
const tempDir = mkdtempSync(join(tmpdir(), 'gatehouse-statements-'));
const database = args.get('database') ?? `sqlite:${join(tempDir, 'gatehouse.db')}`;

const server = await startServer('servers/gatehouse.ts', ['--database', database, '--count-statements']);
let stdout = '';
server.child.stdout!.on('data', (chunk: string) => (stdout += chunk));

async function counted(run: () => Promise<void>): Promise<Record<string, StatementCount>> {
  stdout = '';
  server.child.kill('SIGUSR1');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await run();
  server.child.kill('SIGUSR2');
  for (;;) {
    const line = stdout.split('\n').find((candidate) => candidate.startsWith(STATEMENTS_PREFIX));
    if (line) return JSON.parse(line.slice(STATEMENTS_PREFIX.length)) as Record<string, StatementCount>;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

try {
  for (const name of scenarios) {
    const client = await SCENARIOS[name].setup(server.info, 0);
    await client.op(); // first-use reads (keys, caches) are not per-operation costs
    const counts = await counted(async () => {
      for (let index = 0; index < ops; index++) await client.op();
    });
    const entries = Object.entries(counts);
    const total = entries.reduce((sum, [, entry]) => sum + entry.count, 0);
    const totalNs = entries.reduce((sum, [, entry]) => sum + entry.ns, 0);
    console.log(
      `\n${name}: ${(total / ops).toFixed(1)} statements per operation, ${(totalNs / ops / 1000).toFixed(0)} µs in SQLite per operation`,
    );
    console.log('  per op   µs each  statement');
    for (const [sql, entry] of entries.sort((a, b) => b[1].ns - a[1].ns)) {
      const each = (entry.ns / entry.count / 1000).toFixed(1);
      console.log(
        `  ${(entry.count / ops).toFixed(1).padStart(6)}  ${each.padStart(8)}  ${sql.replace(/\s+/g, ' ').slice(0, 140)}`,
      );
    }
  }
} finally {
  await server.stop();
  stopAllChildren();
  rmSync(tempDir, { recursive: true, force: true });
}
