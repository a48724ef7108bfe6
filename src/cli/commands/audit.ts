/**
 * `gatehouse audit`: the audit trail, newest first, filtered.
 */
import type { Command } from 'commander';
import { AUDITED_EVENT_TYPES } from '../../core/audit/audit-trail.js';
import type { AuditEvent } from '../../store/store.js';
import { CliError, formatTime, printList } from '../output.js';
import { limitFlag, listCommand, repeatable, withStore, type StoreFlags } from '../shared.js';

interface AuditFlags extends StoreFlags {
  type: string[];
  client?: string;
  user?: string;
  since?: string;
  limit?: string;
  json?: boolean;
}

const DURATION_UNITS_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** `--since`: an ISO 8601 time (2025-01-31, 2025-01-31T12:00:00Z) or a duration back from now (90s, 15m, 1h, 7d, 2w). */
export function parseSince(value: string, now: number): number {
  const text = value.trim();
  const duration = /^(\d{1,9})([smhdw])$/.exec(text);
  if (duration) return now - Number(duration[1]) * DURATION_UNITS_MS[duration[2]!]!;
  const time = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new CliError(
      `--since must be an ISO 8601 time such as 2025-01-31T12:00:00Z or a duration such as 15m, 1h or 7d, not ${JSON.stringify(value)}`,
    );
  }
  return time;
}

function auditView(event: AuditEvent) {
  return {
    id: event.id,
    at: formatTime(event.at),
    type: event.type,
    client_id: event.clientId,
    user_id: event.userId,
    username: event.username,
    ip: event.ip,
    flow_id: event.flowId,
    details: event.details,
  };
}

function detailsText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(
      ([key, value]) =>
        `${key}=${Array.isArray(value) ? value.join(' ') : typeof value === 'object' ? JSON.stringify(value) : String(value)}`,
    )
    .join(' ');
}

/** The audit trail, newest first, filtered. */
async function auditList(flags: AuditFlags): Promise<void> {
  const types = flags.type
    .flatMap((type) => type.split(','))
    .map((type) => type.trim())
    .filter((type) => type !== '');
  for (const type of types) {
    if (!(AUDITED_EVENT_TYPES as readonly string[]).includes(type)) {
      throw new CliError(
        `--type ${type} is not an audited event type (expected one of: ${AUDITED_EVENT_TYPES.join(', ')})`,
      );
    }
  }
  const limit = limitFlag(flags.limit) ?? 50;
  const since = flags.since === undefined ? undefined : parseSince(flags.since, Date.now());
  const events = await withStore(flags, async (store) => {
    // --user takes a username (also one that does not exist: failed logins) or a user id.
    let users: string[] | undefined;
    if (flags.user !== undefined) {
      const user = await store.users.getByUsername(flags.user);
      users = user ? [flags.user, user.id] : [flags.user];
    }
    return store.audit.list({
      limit,
      ...(types.length > 0 ? { types } : {}),
      ...(flags.client !== undefined ? { clientId: flags.client } : {}),
      ...(users !== undefined ? { users } : {}),
      ...(since !== undefined ? { since } : {}),
    });
  });
  const views = events.map(auditView);
  printList(views, flags.json, {
    empty: 'No audit events.',
    headers: ['TIME', 'TYPE', 'CLIENT_ID', 'USER', 'IP', 'DETAILS'],
    row: (view) => [
      view.at,
      view.type,
      view.client_id ?? '-',
      view.username ?? view.user_id ?? '-',
      view.ip ?? '-',
      detailsText(view.details) || '-',
    ],
  });
}

export function registerAudit(program: Command): void {
  const description =
    'list the audit trail, newest first: logins, consents, tokens, client/user/key changes, brute-force locks';
  listCommand(program, 'audit', description, (command) =>
    command
      .addOption(
        repeatable(
          '--type <type>',
          `only this event type (repeatable or comma-separated): ${AUDITED_EVENT_TYPES.join(', ')}`,
        ),
      )
      .option('--client <client_id>', 'only events of this client')
      .option('--user <username>', 'only events of this user (a username, also one that does not exist, or a user id)')
      .option(
        '--since <time>',
        'only events since an ISO 8601 time (2025-01-31T12:00:00Z) or for a duration back from now (15m, 1h, 7d)',
      )
      .option('--limit <n>', 'at most this many (default: 50)'),
  ).action((flags: AuditFlags) => auditList(flags));
}
