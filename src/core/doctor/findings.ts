/**
 * `gatehouse doctor`: the findings of its checks. Each check group is one file of this folder
 * and returns findings; ./doctor.ts runs them. A finding names the clause it rests on and the
 * exact fix (the config line to change or the CLI command to run).
 */
import type { GatehouseSettings } from '../../config/settings.js';
import type { Client, DatabaseDiagnostics, SigningKeyRecord } from '../../store/store.js';

export const SEVERITIES = ['error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  severity: Severity;
  /** The check, `group.name` (stable, for scripts reading `--json`). */
  check: string;
  /** What it rests on: `RFC 9700 §4.1`, `OAuth 2.1 §1.5`, `FAPI 2.0 §5.3.2.1`, ... */
  clause: string;
  message: string;
  /** The config line to change or the CLI command to run; empty for an info that needs none. */
  fix: string;
}

/** What the configuration checks read: the resolved settings and, from the database, the rest. */
export interface DoctorInput {
  settings: GatehouseSettings;
  clients: readonly Client[];
  signingKeys: readonly SigningKeyRecord[];
  /** The database's clock and durability settings (absent: not checked). */
  database?: DatabaseDiagnostics & { dialect: 'sqlite' | 'postgres' };
  /** This machine's clock, milliseconds since the epoch. */
  now: number;
}

/** A finding; `fix` defaults to none. */
export function finding(severity: Severity, check: string, clause: string, message: string, fix = ''): Finding {
  return { severity, check, clause, message, fix };
}

/** RFC 8252 §8.3, RFC 9700 §2.1: the loopback hosts (names and literals). */
export function isLoopbackHostname(hostname: string): boolean {
  return ['localhost', '127.0.0.1', '[::1]', '::1'].includes(hostname.toLowerCase());
}

export const DAY_MS = 86_400_000;
