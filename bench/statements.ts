/**
 * How many SQL statements one operation costs: starts the benchmark's Gatehouse on SQLite with
 * every statement execution counted (bench/lib/statement-counter.ts), runs each scenario's
 * operation a number of times after its setup, and prints the statements per operation and which.
 *
 *   node --import tsx bench/statements.ts [--scenarios code-flow-c1,refresh] [--ops 20]
 *
 * A diagnostic for the profile's top item (SQLite execution): fewer statements per operation is
 * the root fix, not faster ones.
 */
import { parseArgs } from './lib/common.js';
import { startServer, stopAllChildren } from './lib/processes.js';
import { STATEMENTS_PREFIX } from './lib/statement-counter.js';
import { SCENARIOS, SCENARIO_NAMES, type ScenarioName } from './lib/scenarios.js';

const args = parseArgs(process.argv.slice(2));
const scenarios = (args.get('scenarios') ?? 'code-flow-c1,client-credentials,refresh,introspection').split(',') as ScenarioName[];
for (const name of scenarios) if (!SCENARIO_NAMES.includes(name)) throw new Error(`unknown scenario ${name}`);
const ops = Number(args.get('ops') ?? 20);

const server = await startServer('servers/gatehouse.ts', ['--database', 'sqlite::memory:', '--count-statements']);
let stdout = '';
server.child.stdout!.on('data', (chunk: string) => (stdout += chunk));

async function counted(run: () => Promise<void>): Promise<Record<string, number>> {
  stdout = '';
  server.child.kill('SIGUSR1');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await run();
  server.child.kill('SIGUSR2');
  for (;;) {
    const line = stdout.split('\n').find((candidate) => candidate.startsWith(STATEMENTS_PREFIX));
    if (line) return JSON.parse(line.slice(STATEMENTS_PREFIX.length)) as Record<string, number>;
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
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
    console.log(`\n${name}: ${(total / ops).toFixed(1)} statements per operation`);
    for (const [sql, count] of Object.entries(counts).sort((a, b) => b[1] - a[1])) {
      console.log(`  ${(count / ops).toFixed(1).padStart(5)}  ${sql.replace(/\s+/g, ' ').slice(0, 160)}`);
    }
  }
} finally {
  await server.stop();
  stopAllChildren();
}
