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
import type { ProviderContext } from './context.js';
import { OAuthError } from './errors.js';
import { EventBus, type GatehouseEvent } from './events.js';

/** Collects emitted events instead of delivering them. */
class HeldEvents extends EventBus {
  readonly held: Array<{ event: GatehouseEvent; at: number }> = [];

  override emit(event: GatehouseEvent, at: number = Date.now()): void {
    this.held.push({ event, at });
  }
}

export async function atomically<T>(context: ProviderContext, step: (context: ProviderContext) => Promise<T>): Promise<T> {
  const events = new HeldEvents();
  const outcome = await context.store.transaction(async (store): Promise<{ value: T } | { error: OAuthError }> => {
    try {
      return {
        value: await step({
          ...context,
          store,
          events,
          // Cache misses are read in the transaction too (see StoreCache.readingWith).
          clients: context.clients.readingWith((clientId) => store.clients.get(clientId)),
          resources: context.resources.readingWith((identifier) => store.resources.get(identifier)),
        }),
      };
    } catch (error) {
      if (error instanceof OAuthError) return { error };
      throw error;
    }
  });
  for (const { event, at } of events.held) context.events.emit(event, at);
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}
