/**
 * The admin API's listing and concurrency conventions, framework-free:
 * - cursor pagination: a page of at most `limit` items in a stable order, and an opaque
 *   `next_cursor` naming the last item returned (the next page starts after it, so items added
 *   or removed meanwhile neither repeat nor shift the pages);
 * - entity tags (RFC 9110 §8.8.3): a strong validator of a resource's representation, compared
 *   with `If-Match` (RFC 9110 §13.1.1) before a change; 412 when it no longer matches (§15.5.13),
 *   428 when it is missing (RFC 6585 §3: every PATCH and DELETE of the admin API requires it, so
 *   that no change silently overwrites one the caller has not seen).
 */
import { createHash } from 'node:crypto';
import { AdminProblem } from '../errors.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** An opaque cursor for the item whose sort key is `key`. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The sort key a cursor names; 400 for a cursor this API did not hand out. */
export function decodeCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
  } catch {
    throw new AdminProblem(400, 'invalid-cursor', 'Invalid cursor', 'cursor is not one this API handed out');
  }
}

/** The string sort key a cursor names; 400 for any other cursor. */
function cursorKey(cursor: string): string {
  const key = decodeCursor(cursor);
  if (typeof key !== 'string')
    throw new AdminProblem(400, 'invalid-cursor', 'Invalid cursor', 'cursor is not one this API handed out');
  return key;
}

/** One page of `items` (already in the order of `keyOf`, ascending) after `cursor`. */
export function paginate<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  page: { limit?: number | undefined; cursor?: string | undefined },
): { items: T[]; next_cursor: string | null } {
  const limit = page.limit ?? DEFAULT_PAGE_SIZE;
  let start = 0;
  if (page.cursor !== undefined) {
    const after = cursorKey(page.cursor);
    start = items.findIndex((item) => keyOf(item) > after);
    if (start === -1) start = items.length;
  }
  const slice = items.slice(start, start + limit);
  const more = start + limit < items.length;
  return { items: slice, next_cursor: more && slice.length > 0 ? encodeCursor(keyOf(slice.at(-1)!)) : null };
}

/**
 * A page read from the store by key (keyset pagination, for tables that grow with traffic):
 * `read` gets the key after which to start (from the cursor) and a limit one larger than the
 * page, so that the extra row tells whether another page follows without counting the table.
 */
export async function keysetPage<T>(
  read: (after: string | undefined, limit: number) => Promise<readonly T[]>,
  keyOf: (item: T) => string,
  page: { limit?: number | undefined; cursor?: string | undefined },
): Promise<{ items: T[]; next_cursor: string | null }> {
  const limit = page.limit ?? DEFAULT_PAGE_SIZE;
  const rows = await read(page.cursor === undefined ? undefined : cursorKey(page.cursor), limit + 1);
  const items = rows.slice(0, limit);
  return { items, next_cursor: rows.length > limit && items.length > 0 ? encodeCursor(keyOf(items.at(-1)!)) : null };
}

/** Sorts by a string key in code-unit order (the order `paginate` compares in). */
export function sortedBy<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  return [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

/** A strong entity tag (RFC 9110 §8.8.3) of a representation. */
export function entityTag(representation: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(representation)).digest('base64url').slice(0, 27)}"`;
}

/**
 * RFC 9110 §13.1.1: the change goes ahead only when `ifMatch` lists the current tag (or is `*`);
 * RFC 6585 §3: 428 when the header is missing.
 */
export function checkIfMatch(ifMatch: string | undefined, current: unknown): void {
  if (ifMatch === undefined || ifMatch.trim() === '') {
    throw new AdminProblem(
      428,
      'precondition-required',
      'Precondition required',
      'send If-Match with the ETag of the resource as last read (RFC 6585 §3), or If-Match: * to change it whatever it is',
    );
  }
  if (ifMatch.trim() === '*') return;
  const tag = entityTag(current);
  // §13.1.1 uses the strong comparison: a weak tag (W/) never matches.
  const listed = ifMatch.split(',').map((value) => value.trim());
  if (!listed.includes(tag)) {
    throw new AdminProblem(
      412,
      'precondition-failed',
      'Precondition failed',
      'the resource changed since it was read (its ETag differs from If-Match); read it again',
    );
  }
}
