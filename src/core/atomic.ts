/**
 * Running a protocol step as one atomic unit of the store: every write it makes commits
 * together, or none does (the database became unreachable half-way, the process died). Its
 * events are held back until the commit, so logs and metrics never report what was rolled back.
 *
 * A protocol error (OAuthError) is an answer, not a failure: what the step wrote before deciding
 * it (e.g. the grant revoked on a code replay, RFC 6749 §4.1.2) is committed, and the error is
 * thrown after the commit. A step must therefore run its checks before it writes what a failing
 * request must not change (the code grant checks client, redirect_uri and verifier before it
 * consumes the code, RFC 6749 §4.1.3).
 */
import type { ProtectedResource, Store } from '../store/store.js';
import type { StoreCache } from './cache/store-cache.js';
import type { Transactions } from './context.js';
import { OAuthError } from './errors.js';
import { EventBus, type GatehouseEvent } from './events.js';
import type { UserDirectory } from './users/user-directory.js';

/** Collects emitted events instead of delivering them, until `release` hands them on. */
export class HeldEvents extends EventBus {
  readonly held: Array<{ event: GatehouseEvent; at: number }> = [];

  override emit(event: GatehouseEvent, at: number = Date.now()): void {
    this.held.push({ event, at });
  }

  /** Delivers the held events, in order, to `events`. */
  release(events: EventBus): void {
    for (const { event, at } of this.held) events.emit(event, at);
    this.held.length = 0;
  }
}

/**
 * What `atomically` needs of a step's dependencies `D` (the step is given `D` again, bound to
 * the transaction): the store's transaction, the events it holds back, and the resource cache,
 * whose misses it reads through the transaction. A step must not use the client cache: its
 * misses would be read outside the transaction, which on SQLite holds the only connection.
 */
export interface AtomicDeps {
  store: Pick<Store, 'resources'> & Transactions;
  events: EventBus;
  resources: StoreCache<ProtectedResource>;
  clients?: never;
  /** The user directory, reading the store's users through the transaction too. */
  users?: UserDirectory;
}

export async function atomically<D extends AtomicDeps, T>(context: D, step: (context: D) => Promise<T>): Promise<T> {
  const events = new HeldEvents();
  const outcome = await context.store.transaction(async (store): Promise<{ value: T } | { error: OAuthError }> => {
    try {
      return {
        value: await step({
          ...context,
          store,
          events,
          // Cache misses are read in the transaction too (see StoreCache.readingWith).
          resources: context.resources.readingWith((identifier) => store.resources.get(identifier)),
          // Store.transaction gives a full Store; the step's type narrows it to what it uses.
          ...(context.users !== undefined
            ? { users: context.users.readingWith(store as unknown as Pick<Store, 'users'>) }
            : {}),
        }),
      };
    } catch (error) {
      if (error instanceof OAuthError) return { error };
      throw error;
    }
  });
  events.release(context.events);
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}
