/**
 * What the two profilers (bench/profile.ts: V8's --cpu-prof; bench/perf-profile.ts: Linux perf)
 * share: one measured run of a scenario against a server they started, and the names they give
 * a frame's file.
 */
import * as processes from './processes.js';
import type { DriverResult } from './results.js';
import type { ScenarioName } from './scenarios.js';

/** Drives `scenario` at `server` (warm-up, then the measured window); throws when any answer was wrong. */
export async function driveMeasured(
  target: processes.TargetDefinition,
  targetName: string,
  server: processes.RunningServer,
  scenario: ScenarioName,
  warmupMs: number,
  durationMs: number,
): Promise<DriverResult> {
  const result = await processes.runDriver(
    {
      target: targetName,
      server: server.info,
      scenario,
      warmupMs,
      durationMs,
      measurePostgres: target.measurePostgres,
    },
    warmupMs + durationMs + 180_000,
  );
  if (result.fatal !== undefined || result.errors > 0)
    throw new Error(`the run had errors: ${result.errorSamples.join('; ')}`);
  return result;
}

/** A frame's script as a path in the repository (`dist/...`, `node_modules/...`), or as it is (`node:...`). */
export function repositoryPath(url: string): string {
  let path = url.replace(/^file:\/\//, '');
  if (path.startsWith(processes.REPO_DIR)) path = path.slice(processes.REPO_DIR.length);
  return path.replace(/^\/+/, '');
}

/** The package a script belongs to (`fastify`, `@scope/name`), Node's module (`node:internal/x`), or the file itself. */
export function ownerOfScript(path: string): string {
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = path.slice(modules + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (path.startsWith('node:')) return path.split('/').slice(0, 3).join('/');
  return path;
}
