/**
 * Running the `gatehouse` CLI as a child process, with none of the Gatehouse environment variables
 * of the test process leaking in: the compiled CLI (dist/, which `npm test` builds first) when it
 * is up to date with src/, else from source through tsx. A process started through tsx costs
 * about three times the CPU (the loader and esbuild), and the suite starts a few hundred.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { staleCompiledFiles } from '../../bench/lib/compiled.js';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI_MAIN = join(REPO, 'src', 'cli', 'main.ts');
const COMPILED_CLI_MAIN = join(REPO, 'dist', 'cli', 'main.js');

/** Whether every src/**\/*.ts has its dist/ counterpart, written after it (`tsc -p tsconfig.json`). */
function compiledIsCurrent(): boolean {
  return staleCompiledFiles().length === 0;
}

let cliCommand: string[] | undefined;

/** `node <args>` that runs the CLI: the compiled one when current, checked once per test process. */
function cliArguments(): string[] {
  cliCommand ??= compiledIsCurrent() ? [COMPILED_CLI_MAIN] : ['--import', 'tsx', CLI_MAIN];
  return cliCommand;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const GATEHOUSE_VARIABLES = [
  'PORT',
  'GATEHOUSE_ISSUER',
  'GATEHOUSE_DATABASE_URL',
  'GATEHOUSE_SECRET',
  'GATEHOUSE_CONFIG',
  'GATEHOUSE_DEBUG',
  'GATEHOUSE_METRICS_TOKEN',
  'GATEHOUSE_TLS_CERT',
  'GATEHOUSE_TLS_KEY',
  'GATEHOUSE_TRUST_PROXY',
  'GATEHOUSE_ALLOW_HTTP_ISSUER',
];

/**
 * Spawns the CLI with `args` and `extraEnv` added to an environment without the Gatehouse
 * variables of the test process; cwd is the repository so that `--import tsx` resolves.
 */
function spawnGatehouse(args: string[], extraEnv: NodeJS.ProcessEnv | undefined): ChildProcessWithoutNullStreams {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of GATEHOUSE_VARIABLES) delete env[name];
  Object.assign(env, extraEnv);
  return spawn(process.execPath, [...cliArguments(), ...args], { cwd: REPO, env, stdio: 'pipe' });
}

/** Runs the CLI with `args`; `input` goes to its stdin, `env` is added to a clean environment. */
export function runCli(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    // Every command names its database.
    const child = spawnGatehouse(args, options.env);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A failed run: exit code 1 and a one-line message on stderr, without a stack trace. */
export function assertOneLineFailure(run: CliRun, message: RegExp): void {
  assert.equal(run.code, 1, `exit code; stdout: ${run.stdout}; stderr: ${run.stderr}`);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0] ?? '', message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
}

export interface CliServer {
  /** The issuer (= base URL) the server printed. */
  url: string;
  child: import('node:child_process').ChildProcess;
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

/**
 * Starts `gatehouse start ...args` as a child process and resolves once it printed its issuer
 * (pass `--port 0 --host 127.0.0.1` for a free loopback port).
 */
export async function startCliServer(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<CliServer> {
  const child = spawnGatehouse(['start', ...args], options.env);
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolveExit) => child.on('close', (code) => resolveExit(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /Issuer:\s+(\S+)/.exec(stdout);
      if (match?.[1]) resolveUrl(match[1]);
    });
    void exited.then((code) => reject(new Error(`gatehouse start exited with ${code}: ${stderr}`)));
  });
  return { url, child, exited, stdout: () => stdout, stderr: () => stderr };
}

/**
 * Runs `fn` against `gatehouse start ...args`, then stops it with SIGTERM and checks that it
 * shut down gracefully (exit code 0).
 */
export async function withCliServer(
  args: string[],
  options: { env?: NodeJS.ProcessEnv },
  fn: (issuer: string) => Promise<void>,
): Promise<void> {
  const server = await startCliServer(args, options);
  try {
    await fn(server.url);
  } finally {
    server.child.kill('SIGTERM');
  }
  assert.equal(await server.exited, 0, server.stderr());
}

/** A long-running CLI process (e.g. `start`), with its output collected. */
export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resolves with the exit code or signal once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the CLI with `args` in the background, with the same clean environment as runCli. */
export function spawnCli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): CliProcess {
  const child = spawnGatehouse(args, options.env);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) => {
    child.on('close', (code, signal) => resolvePromise({ code, signal }));
  });
  return { child, output: () => output, exited };
}

/** Opens the store the CLI under test writes to, runs `fn` on it and closes it. */
export async function withStoreAt<T>(databaseUrl: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(databaseUrl);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * The arguments of a command line written as a template: the literal text split at white space
 * (line breaks included), each `${value}` one argument whole (so it may hold spaces).
 * argv`clients create --name ${'Web App'}` is ['clients', 'create', '--name', 'Web App'].
 */
export function argv(strings: TemplateStringsArray, ...values: string[]): string[] {
  const words = (text: string) => text.split(/\s+/).filter((word) => word !== '');
  return strings.flatMap((text, i) => [...words(text), ...(i < values.length ? [values[i]!] : [])]);
}
