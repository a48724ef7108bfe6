/**
 * Querying the audit trail, newest first, with filters and the admin API's cursor pagination:
 * the one query of the admin API (`GET /admin/v1/audit-events`) and the console's audit log.
 */
import type { AuditEvent, AuditFilter, Store } from '../../store/store.js';
import { AdminProblem } from '../errors.js';
import { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor } from './admin-listing.js';

export interface AuditQuery {
  limit?: number | undefined;
  cursor?: string | undefined;
  /** Event types, comma-separated. */
  type?: string | undefined;
  client_id?: string | undefined;
  /** A username or user id. */
  user?: string | undefined;
  /** RFC 3339 date-time: only events at or after it. */
  since?: string | undefined;
}

/** `since`: RFC 3339 date-time. */
function parseSince(since: string | undefined): number | undefined {
  if (since === undefined) return undefined;
  const at = Date.parse(since);
  if (Number.isNaN(at))
    throw new AdminProblem(400, 'invalid-request', 'Invalid request', 'since must be an RFC 3339 date-time', [
      { field: 'since', message: 'must be an RFC 3339 date-time, e.g. 2026-01-31T00:00:00Z' },
    ]);
  return at;
}

/** The audit cursor: the (at, id) of the last event of the page. */
function auditCursor(cursor: string | undefined): AuditFilter['before'] {
  if (cursor === undefined) return undefined;
  const key = decodeCursor(cursor);
  if (!Array.isArray(key) || typeof key[0] !== 'number' || typeof key[1] !== 'number')
    throw new AdminProblem(400, 'invalid-cursor', 'Invalid cursor', 'cursor is not one this API handed out');
  return { at: key[0], id: key[1] };
}

/** One page of events matching the query, newest first, and the cursor of the next page. */
export async function queryAuditEvents(
  store: Pick<Store, 'audit'>,
  query: AuditQuery,
): Promise<{ items: AuditEvent[]; next_cursor: string | null }> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const since = parseSince(query.since);
  const before = auditCursor(query.cursor);
  const types = query.type
    ?.split(',')
    .map((type) => type.trim())
    .filter((type) => type !== '');
  // One more than the page: whether there is a next page.
  const events = await store.audit.list({
    limit: limit + 1,
    ...(types !== undefined && types.length > 0 ? { types } : {}),
    ...(query.client_id !== undefined ? { clientId: query.client_id } : {}),
    ...(query.user !== undefined ? { users: [query.user] } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(before !== undefined ? { before } : {}),
  });
  const items = events.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    next_cursor: events.length > limit && last !== undefined ? encodeCursor([last.at, last.id ?? 0]) : null,
  };
}
