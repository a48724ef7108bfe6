/**
 * When a self-registered client was last active, for the cleanup of abandoned ones
 * (registration.abandoned_after_seconds): marked when a token is issued to it, at most once an
 * hour per client and instance (a per-instance memory of recent marks, and a conditional UPDATE
 * that writes nothing when another instance marked it within the hour). Operator-registered
 * clients are never marked: they are never removed for being unused.
 */
import type { Client, Store } from '../../store/store.js';
import { BoundedCache } from '../cache/bounded-cache.js';
import type { ProviderContext } from '../context.js';

/** How stale the mark may get: far below any sensible abandoned_after_seconds. */
export const ACTIVITY_MARK_INTERVAL_MS = 3600 * 1000;

export type ClientActivityDeps = Pick<ProviderContext, 'now'> & { store: Pick<Store, 'registrations'> };

const recentMarks = new WeakMap<ClientActivityDeps, BoundedCache<string, true>>();

/** Marks `client` active now if it registered itself and was not marked within the hour. */
export async function noteClientActive(client: Client, context: ClientActivityDeps): Promise<void> {
  if (client.registrationKind !== 'dynamic') return;
  let marks = recentMarks.get(context);
  if (marks === undefined) {
    marks = new BoundedCache(10_000, ACTIVITY_MARK_INTERVAL_MS, () => context.now());
    recentMarks.set(context, marks);
  }
  if (marks.get(client.clientId) !== undefined) return;
  marks.set(client.clientId, true, marks.epoch);
  await context.store.registrations.touch(client.clientId, context.now(), ACTIVITY_MARK_INTERVAL_MS);
}
