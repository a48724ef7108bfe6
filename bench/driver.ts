/**
 * The load driver: one process per measured run, started by bench/run.ts (or bench/profile.ts)
 * as `node --import tsx bench/driver.ts '<json config>'`.
 *
 * It readies `concurrency` virtual clients (sign-in, tokens: not measured), then runs them in a
 * closed loop (each starts its next operation when the previous one is answered) through a
 * warm-up and then the measured window, over keep-alive connections (Node's fetch, undici).
 * Around the window it reads the server's CPU time from /proc/<pid>/stat (and, for PostgreSQL,
 * that of every postgres process), the machine's busy time and its own CPU time.
 * Prints one line: BENCH_RESULT {json}.
 */
import { performance } from 'node:perf_hooks';
import { CheckError } from './lib/http.js';
import { failedResult, RESULT_PREFIX, type DriverConfig, type DriverResult } from './lib/results.js';
import { clockTicksPerSecond, machineTicks, postgresCpuTicks, processCpuTicks } from './lib/proc.js';
import { SCENARIOS, type VirtualClient } from './lib/scenarios.js';

const SETUP_PARALLELISM = 4;

interface Snapshot {
  at: number;
  monotonicUs: number;
  server: number;
  postgres: number;
  machineBusy: number;
  driver: NodeJS.CpuUsage;
}

function snapshot(config: DriverConfig): Snapshot {
  return {
    at: performance.now(),
    monotonicUs: Number(process.hrtime.bigint() / 1000n),
    server: processCpuTicks(config.server.pid),
    postgres: config.measurePostgres ? postgresCpuTicks() : 0,
    machineBusy: machineTicks().busy,
    driver: process.cpuUsage(),
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

function describeError(error: unknown): string {
  if (error instanceof CheckError) return error.message;
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return `${error.name}: ${error.message}${cause ? ` (${cause.code ?? cause.message ?? ''})` : ''}`;
  }
  return String(error);
}

async function run(config: DriverConfig): Promise<DriverResult> {
  const scenario = SCENARIOS[config.scenario];
  const ticks = clockTicksPerSecond();
  const setupStart = performance.now();
  const clients: VirtualClient[] = new Array(scenario.concurrency);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(SETUP_PARALLELISM, scenario.concurrency) }, async () => {
      while (next < scenario.concurrency) {
        const index = next++;
        clients[index] = await scenario.setup(config.server, index);
      }
    }),
  );
  const setupSeconds = (performance.now() - setupStart) / 1000;

  let phase: 'warmup' | 'measure' | 'done' = 'warmup';
  const latencies: number[] = [];
  let errors = 0;
  let warmupErrors = 0;
  const errorSamples = new Map<string, number>();
  let start: Snapshot | undefined;
  let end: Snapshot | undefined;

  const startTimer = setTimeout(() => {
    start = snapshot(config);
    phase = 'measure';
  }, config.warmupMs);
  const endTimer = setTimeout(() => {
    end = snapshot(config);
    phase = 'done';
  }, config.warmupMs + config.durationMs);

  await Promise.all(
    clients.map(async (client) => {
      while (phase !== 'done') {
        const began = performance.now();
        let failure: unknown;
        try {
          await client.op();
        } catch (error) {
          failure = error;
        }
        const finished = performance.now();
        if (failure === undefined) {
          if (phase === 'measure') latencies.push(finished - began);
          continue;
        }
        if (phase === 'measure') errors++;
        else if (phase === 'warmup') warmupErrors++;
        const message = describeError(failure);
        errorSamples.set(message, (errorSamples.get(message) ?? 0) + 1);
        if (!(failure instanceof CheckError)) await new Promise((resolve) => setTimeout(resolve, 20));
        try {
          await client.recover?.();
        } catch (error) {
          const again = `recovery failed: ${describeError(error)}`;
          errorSamples.set(again, (errorSamples.get(again) ?? 0) + 1);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }),
  );
  clearTimeout(startTimer);
  clearTimeout(endTimer);
  if (!start || !end) throw new Error('the measured window did not happen');

  const windowSeconds = (end.at - start.at) / 1000;
  const ops = latencies.length;
  const sorted = Float64Array.from(latencies).sort();
  const perOp = (value: number) => (ops > 0 ? value / ops : Number.NaN);
  const serverUs = ((end.server - start.server) / ticks) * 1e6;
  const postgresUs = ((end.postgres - start.postgres) / ticks) * 1e6;
  const driverUs = end.driver.user + end.driver.system - start.driver.user - start.driver.system;
  const machineUs = ((end.machineBusy - start.machineBusy) / ticks) * 1e6;
  const windowUs = windowSeconds * 1e6;
  return {
    target: config.target,
    scenario: config.scenario,
    concurrency: scenario.concurrency,
    unit: scenario.unit,
    requestsPerOp: scenario.requestsPerOp,
    ops,
    windowSeconds,
    throughput: ops / windowSeconds,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    meanMs: perOp(latencies.reduce((sum, value) => sum + value, 0)),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    serverCpuUsPerOp: perOp(serverUs),
    serverCores: serverUs / windowUs,
    driverCpuUsPerOp: perOp(driverUs),
    driverCores: driverUs / windowUs,
    dbCpuUsPerOp: config.measurePostgres ? perOp(postgresUs) : null,
    dbCores: config.measurePostgres ? postgresUs / windowUs : null,
    machineBusyCores: machineUs / windowUs,
    otherBusyCores: (machineUs - serverUs - driverUs - (config.measurePostgres ? postgresUs : 0)) / windowUs,
    errors,
    warmupErrors,
    errorSamples: [...errorSamples]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([message, count]) => `${count}x ${message}`),
    setupSeconds,
    sample: clients.find((client) => client.sample)?.sample ?? null,
    windowMonotonicUs: [start.monotonicUs, end.monotonicUs],
  };
}

const config = JSON.parse(process.argv[2] ?? '{}') as DriverConfig;
let result: DriverResult;
try {
  result = await run(config);
} catch (error) {
  result = failedResult(config, describeError(error));
}
process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`, () => process.exit(0));
