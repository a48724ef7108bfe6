/**
 * The database: its clock against this machine's (every instance compares times it wrote with
 * its own clock: codes, tokens, DPoP proofs, RFC 9449 §11.1), and whether a commit survives a
 * crash (a lost commit can make a used code or a rotated refresh token usable again,
 * RFC 6749 §4.1.2, RFC 9700 §4.14.2).
 */
import { finding, type DoctorInput, type Finding } from './findings.js';

/** Skew above which a finding is a warning, and an error. */
export const CLOCK_SKEW_WARNING_MS = 2_000;
export const CLOCK_SKEW_ERROR_MS = 30_000;

export function checkDatabase(database: NonNullable<DoctorInput['database']>, now: number): Finding[] {
  const findings: Finding[] = [];
  const skew = Math.abs(database.now - now);
  if (skew > CLOCK_SKEW_WARNING_MS) {
    findings.push(
      finding(
        skew > CLOCK_SKEW_ERROR_MS ? 'error' : 'warning',
        'database.clock',
        'RFC 9449 §11.1, RFC 7519 §4.1.4',
        `this machine's clock and the database's differ by ${(skew / 1000).toFixed(1)} s: lifetimes and single-use checks disagree between instances`,
        'run NTP (chrony or systemd-timesyncd) on every instance and the database host',
      ),
    );
  }
  return [
    ...findings,
    ...(database.dialect === 'sqlite'
      ? sqliteDurability(database.durability)
      : postgresDurability(database.durability)),
  ];
}

const DURABILITY_CLAUSE = 'RFC 6749 §4.1.2, RFC 9700 §4.14.2';

function sqliteDurability(durability: Record<string, string>): Finding[] {
  const { journal_mode: journal, synchronous } = durability;
  if (journal === 'memory') {
    return [
      finding(
        'error',
        'database.durability',
        DURABILITY_CLAUSE,
        'the database is SQLite in memory: every client, user, key and token is lost when the process exits',
        'database_url: sqlite:/var/lib/gatehouse/gatehouse.db',
      ),
    ];
  }
  const findings: Finding[] = [];
  if (synchronous === 'off') {
    findings.push(
      finding(
        'error',
        'database.durability',
        DURABILITY_CLAUSE,
        'SQLite synchronous=OFF: a crash can lose or corrupt commits',
        'let Gatehouse open the database (it sets synchronous=NORMAL with WAL); do not override PRAGMA synchronous',
      ),
    );
  }
  if (journal !== 'wal') {
    findings.push(
      finding(
        'warning',
        'database.durability',
        DURABILITY_CLAUSE,
        `SQLite journal_mode=${journal}, not WAL: several processes on one file block each other`,
        'put the database file on a local file system that supports WAL (not a network share)',
      ),
    );
  } else if (synchronous === 'normal') {
    findings.push(
      finding(
        'info',
        'database.durability',
        DURABILITY_CLAUSE,
        'SQLite WAL with synchronous=NORMAL: durable against process crashes; a power loss may lose the last commits',
      ),
    );
  }
  return findings;
}

function postgresDurability(durability: Record<string, string>): Finding[] {
  const findings: Finding[] = [];
  if (durability['fsync'] === 'off') {
    findings.push(
      finding(
        'error',
        'database.durability',
        DURABILITY_CLAUSE,
        'PostgreSQL fsync=off: a crash of the database host can corrupt the database',
        'fsync = on   (postgresql.conf, then restart PostgreSQL)',
      ),
    );
  }
  if (durability['synchronous_commit'] === 'off') {
    findings.push(
      finding(
        'warning',
        'database.durability',
        DURABILITY_CLAUSE,
        'PostgreSQL synchronous_commit=off: a crash loses the last commits, so a redeemed code or rotated refresh token can become usable again',
        "ALTER SYSTEM SET synchronous_commit = 'on'; SELECT pg_reload_conf();",
      ),
    );
  }
  if (findings.length === 0) {
    findings.push(
      finding(
        'info',
        'database.durability',
        DURABILITY_CLAUSE,
        `PostgreSQL fsync=${durability['fsync']}, synchronous_commit=${durability['synchronous_commit']}: commits are durable`,
      ),
    );
  }
  return findings;
}
