/**
 * What the driver is asked to do and what it answers (one JSON line on stdout).
 */
import type { ServerInfo } from './common.js';
import { SCENARIOS, type ScenarioName } from './scenarios.js';

export interface DriverConfig {
  target: string;
  server: ServerInfo;
  scenario: ScenarioName;
  warmupMs: number;
  durationMs: number;
  /** Also account the CPU time of the PostgreSQL processes. */
  measurePostgres: boolean;
}

export interface DriverResult {
  target: string;
  scenario: ScenarioName;
  concurrency: number;
  unit: 'request' | 'flow';
  requestsPerOp: number;
  ops: number;
  windowSeconds: number;
  /** Operations (requests or complete flows) per second. */
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** Server process CPU (user + system, all threads) per operation, in microseconds. */
  serverCpuUsPerOp: number;
  /** Cores' worth of CPU the server used during the window. */
  serverCores: number;
  driverCpuUsPerOp: number;
  driverCores: number;
  /** PostgreSQL processes' CPU per operation (PostgreSQL target only). */
  dbCpuUsPerOp: number | null;
  dbCores: number | null;
  /** The whole machine's busy cores during the window, and what no measured process explains. */
  machineBusyCores: number;
  otherBusyCores: number;
  errors: number;
  warmupErrors: number;
  errorSamples: string[];
  setupSeconds: number;
  sample: Record<string, unknown> | null;
  /** CLOCK_MONOTONIC microseconds (the clock of V8's CPU profiles) at the window's ends. */
  windowMonotonicUs: [number, number];
  fatal?: string;
}

export const RESULT_PREFIX = 'BENCH_RESULT ';

/** The result of a run that produced no measurement (setup failed, driver crashed, time limit). */
export function failedResult(config: DriverConfig, message: string): DriverResult {
  const scenario = SCENARIOS[config.scenario];
  return {
    target: config.target,
    scenario: config.scenario,
    concurrency: scenario?.concurrency ?? 0,
    unit: scenario?.unit ?? 'request',
    requestsPerOp: scenario?.requestsPerOp ?? 1,
    ops: 0,
    windowSeconds: 0,
    throughput: 0,
    p50Ms: Number.NaN,
    p99Ms: Number.NaN,
    meanMs: Number.NaN,
    maxMs: Number.NaN,
    serverCpuUsPerOp: Number.NaN,
    serverCores: Number.NaN,
    driverCpuUsPerOp: Number.NaN,
    driverCores: Number.NaN,
    dbCpuUsPerOp: null,
    dbCores: null,
    machineBusyCores: Number.NaN,
    otherBusyCores: Number.NaN,
    errors: 1,
    warmupErrors: 0,
    errorSamples: [message],
    setupSeconds: 0,
    sample: null,
    windowMonotonicUs: [0, 0],
    fatal: message,
  };
}
