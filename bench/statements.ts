/**
 * How much database work one operation costs: starts the benchmark's Gatehouse with every
 * database call counted and timed (bench/lib/statement-counter.ts), runs each scenario's
 * operation a number of times after its setup (one at a time), and prints, per operation and per
 * HTTP request of it (a code flow is `GET /authorize` then `POST /token`), how many statements
 * ran, which, and the time for each.
 *
 *   node --import tsx bench/statements.ts [--scenarios code-flow-c1,refresh] [--ops 200] [--database URL]
 *
 * - SQLite (default: a WAL file in a temp directory, as `npm run bench` uses): statement
 *   executions and the time SQLite takes for each.
 * - PostgreSQL (`--database postgres://postgres@127.0.0.1:5432/test`; a schema of its own,
 *   dropped afterwards): the queries sent, BEGIN and COMMIT included, i.e. the round trips per
 *   request (issue 14: at most 3 per token request), and the time until each answer.
 *
 * A diagnostic for the profile's top item (database work): fewer statements per operation is
 * the root fix, not faster ones.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parseArgs } from './lib/common.js';
import { startServer, stopAllChildren } from './lib/processes.js';
import { NO_REQUEST, STATEMENTS_PREFIX, type StatementCount, type StatementReport } from './lib/statement-counter.js';
import { SCENARIOS, SCENARIO_NAMES, type ScenarioName } from './lib/scenarios.js';

const args = parseArgs(process.argv.slice(2));
const scenarios = (args.get('scenarios') ?? 'code-flow-c1,client-credentials,refresh,introspection').split(
  ',',
) as ScenarioName[];
for (const name of scenarios) if (!SCENARIO_NAMES.includes(name)) throw new Error(`unknown scenario ${name}`);
const ops = Number(args.get('ops') ?? 200);
if (!Number.isSafeInteger(ops) || ops < 1) throw new Error('--ops must be a positive integer');

const tempDir = mkdtempSync(join(tmpdir(), 'gatehouse-statements-'));
const given = args.get('database') ?? `sqlite:${join(tempDir, 'gatehouse.db')}`;
const postgres = /^postgres(ql)?:\/\//.test(given);
let database = given;
let dropSchema = async () => {};
if (postgres) {
  const url = new URL(given);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    throw new Error('the benchmark only talks to a database on 127.0.0.1');
  if (!url.searchParams.has('schema')) {
    // A schema of its own, so that the counts see only this server's tables; dropped afterwards.
    const schema = `gh_bench_statements_${randomBytes(6).toString('hex')}`;
    url.searchParams.set('schema', schema);
    database = url.toString();
    dropSchema = async () => {
      const client = new pg.Client({ connectionString: given });
      client.on('error', () => {});
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    };
  }
}
const unit = postgres ? 'queries (round trips)' : 'statements';
const timeLabel = postgres ? 'µs until the answer' : 'µs in SQLite';

const server = await startServer('servers/gatehouse.ts', ['--database', database, '--count-statements']);
let stdout = '';
server.child.stdout!.on('data', (chunk: string) => (stdout += chunk));

async function counted(run: () => Promise<void>): Promise<StatementReport> {
  stdout = '';
  server.child.kill('SIGUSR1');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await run();
  // Work the server finishes after its answer (a buffered audit write) is still counted.
  await new Promise((resolve) => setTimeout(resolve, 200));
  server.child.kill('SIGUSR2');
  for (;;) {
    const line = stdout.split('\n').find((candidate) => candidate.startsWith(STATEMENTS_PREFIX));
    if (line) return JSON.parse(line.slice(STATEMENTS_PREFIX.length)) as StatementReport;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sum = (entries: [string, StatementCount][], field: 'count' | 'ns') =>
  entries.reduce((total, [, entry]) => total + entry[field], 0);
const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim().slice(0, 140);

const summary: string[] = [];
try {
  console.log(`Database: ${postgres ? 'PostgreSQL' : 'SQLite'} (${database.replace(/\/\/[^@]*@/, '//…@')})`);
  for (const name of scenarios) {
    const client = await SCENARIOS[name].setup(server.info, 0);
    await client.op(); // first-use reads (keys, caches) are not per-operation costs
    const report = await counted(async () => {
      for (let index = 0; index < ops; index++) await client.op();
    });
    const routes = Object.entries(report.statements);
    const all = routes.flatMap(([, perRoute]) => Object.entries(perRoute));
    console.log(
      `\n${name}: ${(sum(all, 'count') / ops).toFixed(1)} ${unit} per operation, ` +
        `${(sum(all, 'ns') / ops / 1000).toFixed(0)} ${timeLabel} per operation`,
    );
    // The requests in the order a flow sends them (authorize before token), then the rest.
    const order = [...Object.keys(report.requests), NO_REQUEST];
    routes.sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
    for (const [route, perRoute] of routes) {
      const entries = Object.entries(perRoute);
      const requests = report.requests[route];
      // Per request of this route; work outside requests is per operation.
      const per = requests ?? ops;
      console.log(
        `  ${route}: ${requests === undefined ? '' : `${(requests / ops).toFixed(1)} per operation, `}` +
          `${(sum(entries, 'count') / per).toFixed(1)} ${unit} per ${requests === undefined ? 'operation' : 'request'}, ` +
          `${(sum(entries, 'ns') / per / 1000).toFixed(0)} ${timeLabel}`,
      );
      summary.push(`| ${name} | ${route} | ${(sum(entries, 'count') / per).toFixed(1)} |`);
      console.log(`    per ${requests === undefined ? 'op ' : 'req'}  µs each  statement (in order of first use)`);
      for (const [sql, entry] of entries) {
        const each = (entry.ns / entry.count / 1000).toFixed(1);
        console.log(`    ${(entry.count / per).toFixed(2).padStart(6)}  ${each.padStart(8)}  ${oneLine(sql)}`);
      }
    }
  }
  console.log(`\n| scenario | request | ${unit} per request |\n|---|---|--:|\n${summary.join('\n')}`);
} finally {
  await server.stop();
  stopAllChildren();
  await dropSchema();
  rmSync(tempDir, { recursive: true, force: true });
}
