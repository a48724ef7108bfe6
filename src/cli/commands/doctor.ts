/**
 * `gatehouse doctor [--config FILE] [--database URL] [--url ISSUER] [--json]`: checks a
 * configuration, what its database holds and, with --url, a running deployment
 * (src/core/doctor/run-doctor.ts); prints each finding with its clause and fix, and exits 1 when one is an
 * error, so that a pipeline can gate on it (docs/doctor.md).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { GatehouseSettings } from '../../config/settings.js';
import { ConfigError } from '../../config/resolve-settings.js';
import {
  bySeverity,
  checkConfiguration,
  checkRunningDeployment,
  doctorExitCode,
  type DoctorInput,
  type Finding,
} from '../../core/doctor/run-doctor.js';
import { SEVERITIES } from '../../core/doctor/findings.js';
import { registerClient } from '../../core/registration/client-registration.js';
import { serverMetadata } from '../../core/oidc/server-metadata.js';
import type { Client } from '../../store/store.js';
import { printJson, writeOut } from '../output.js';
import { explainingDatabase, settingsFor, storeCommand, type StoreFlags } from '../shared.js';

interface DoctorFlags extends StoreFlags {
  url?: string;
  json?: boolean;
}

/** What the database holds (nothing when it does not exist yet: doctor never creates one). */
type StoredFacts = Pick<DoctorInput, 'signingKeys' | 'database'> & { clients: Client[]; problem?: Finding };

async function readDatabase(settings: GatehouseSettings): Promise<StoredFacts> {
  const { openStore, redactUrl, sqlitePath } = await import('../../store/open-store.js');
  const empty = { clients: [], signingKeys: [] };
  if (settings.databaseUrl.startsWith('sqlite:')) {
    const path = sqlitePath(settings.databaseUrl);
    if (path !== ':memory:' && !existsSync(resolve(path))) {
      return {
        ...empty,
        problem: {
          severity: 'info',
          check: 'database.present',
          clause: 'Gatehouse',
          message: `no database at ${redactUrl(settings.databaseUrl)} yet: only the configuration is checked`,
          fix: `gatehouse migrate --database ${redactUrl(settings.databaseUrl)}`,
        },
      };
    }
  }
  const store = await explainingDatabase(settings.databaseUrl, () => openStore(settings.databaseUrl));
  try {
    // An in-memory database is new at every run: give it its schema (a file is never changed).
    if (settings.databaseUrl.endsWith(':memory:')) await store.migrate();
    const diagnostics = await store.diagnostics();
    const database = { ...diagnostics, dialect: store.dialect };
    try {
      return { clients: await store.clients.list(), signingKeys: await store.signingKeys.list(), database };
    } catch {
      return {
        ...empty,
        database,
        problem: {
          severity: 'error',
          check: 'database.schema',
          clause: 'Gatehouse',
          message: `the database at ${redactUrl(settings.databaseUrl)} has no (or an old) Gatehouse schema`,
          fix: `gatehouse migrate --database ${redactUrl(settings.databaseUrl)}`,
        },
      };
    }
  } finally {
    await store.close();
  }
}

/** The clients as they will be once `gatehouse start` applies the config file over the database. */
async function effectiveClients(settings: GatehouseSettings, stored: Client[], now: number): Promise<Client[]> {
  const byId = new Map(stored.map((client) => [client.clientId, client]));
  for (const fixture of settings.clients) {
    const { client } = await registerClient(fixture, {
      generateSecret: false,
      now,
      // Only for sealing a client_secret_jwt secret, which doctor never stores.
      instanceSecret: settings.secret || 'gatehouse-doctor-does-not-store-secrets',
    });
    byId.set(client.clientId, { ...client, createdAt: byId.get(client.clientId)?.createdAt ?? now });
  }
  return [...byId.values()];
}

function printFindings(findings: readonly Finding[]): void {
  for (const item of findings) {
    writeOut(`${item.severity.toUpperCase().padEnd(7)} ${item.check}  [${item.clause}]`);
    writeOut(`        ${item.message}`);
    if (item.fix !== '') writeOut(`        fix: ${item.fix}`);
  }
  const counts = SEVERITIES.map(
    (severity) => `${findings.filter((item) => item.severity === severity).length} ${severity}`,
  );
  writeOut(`${counts.join(', ')}`);
}

/** The findings, printed as text or JSON; the exit code says whether one is an error. */
function report(findings: readonly Finding[], json: boolean | undefined): void {
  if (json) printJson({ ok: doctorExitCode(findings) === 0, findings });
  else printFindings(findings);
  process.exitCode = doctorExitCode(findings);
}

async function doctorCommand(flags: DoctorFlags): Promise<void> {
  let settings: GatehouseSettings;
  try {
    settings = await settingsFor(flags, false);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // A configuration Gatehouse refuses to start with is the first finding, and the last.
    return report(
      [
        {
          severity: 'error',
          check: 'config.load',
          clause: 'Gatehouse',
          message: error.message,
          fix: 'correct the setting the message names',
        },
      ],
      flags.json,
    );
  }
  const now = Date.now();
  const stored = await readDatabase(settings);
  const findings = bySeverity([
    ...(stored.problem !== undefined ? [stored.problem] : []),
    ...checkConfiguration({
      settings,
      clients: await effectiveClients(settings, stored.clients, now),
      signingKeys: stored.signingKeys,
      ...(stored.database !== undefined ? { database: stored.database } : {}),
      now,
    }),
    ...(flags.url !== undefined
      ? await checkRunningDeployment(
          flags.url,
          (url, init) => fetch(url, init),
          flags.config ? serverMetadata(settings) : undefined,
        )
      : []),
  ]);
  report(findings, flags.json);
}

export function registerDoctor(program: Command): void {
  storeCommand(program, 'doctor', 'check a configuration, its database and a running deployment', (command) =>
    command
      .option(
        '--url <issuer>',
        'also check the running deployment at this issuer URL (discovery, endpoints, algorithms)',
      )
      .option('--json', 'print the findings as JSON'),
  ).action((flags: DoctorFlags) => doctorCommand(flags));
}
