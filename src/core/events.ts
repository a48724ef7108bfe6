/**
 * Typed protocol events. Every step of an authorization emits one, carrying the `flowId` that
 * ties the front-channel steps (authorization request, login, consent, code issued) to the
 * back-channel steps (code redeemed, token issued) of the same authorization.
 *
 * Logs, the audit trail, metrics and the flow inspector subscribe here instead of being wired
 * into each endpoint. Listeners run synchronously and must not throw; a throwing listener is
 * isolated so it cannot break the protocol step that emitted the event.
 */
export type GatehouseEvent =
  | { type: 'authorization.accepted'; flowId: string; clientId: string; scope: string[]; responseMode: string }
  | { type: 'authorization.refused'; flowId: string; clientId: string | null; error: string; description: string; redirected: boolean }
  | { type: 'login.succeeded'; flowId: string; userId: string }
  | { type: 'login.failed'; flowId: string; reason: 'unknown_user_or_wrong_password' }
  | { type: 'consent.granted'; flowId: string; userId: string; clientId: string; scope: string[] }
  | { type: 'consent.denied'; flowId: string; userId: string; clientId: string }
  | { type: 'code.issued'; flowId: string; clientId: string; userId: string; grantId: string }
  | { type: 'code.redeemed'; flowId: string; clientId: string; grantId: string }
  | { type: 'code.replayed'; flowId: string; clientId: string; grantId: string }
  | { type: 'refresh.reused'; flowId: string; clientId: string; grantId: string }
  | { type: 'token.revoked'; flowId: string | null; clientId: string; kind: 'access_token' | 'refresh_token'; grantId: string | null }
  | { type: 'token.issued'; flowId: string | null; clientId: string; grantType: string; jti: string; grantId: string | null }
  | { type: 'token.refused'; flowId: string | null; clientId: string | null; grantType: string | null; error: string; description: string }
  /** A session ended by logout; logout tokens were queued for `backchannelClientIds`. */
  | { type: 'logout.succeeded'; userId: string; sid: string | null; clientId: string | null; backchannelClientIds: string[] };

export type GatehouseEventType = GatehouseEvent['type'];
export type EventOf<T extends GatehouseEventType> = Extract<GatehouseEvent, { type: T }>;
export type TimedEvent = GatehouseEvent & { at: number };

type Listener<E> = (event: E) => void;

export class EventBus {
  private readonly byType = new Map<string, Set<Listener<TimedEvent>>>();
  private readonly all = new Set<Listener<TimedEvent>>();

  /** Called when a listener throws; the server points it at its logger. */
  onListenerError: (error: unknown, event: TimedEvent) => void = () => {};

  on<T extends GatehouseEventType>(type: T, listener: Listener<EventOf<T> & { at: number }>): () => void {
    let set = this.byType.get(type);
    if (!set) this.byType.set(type, (set = new Set()));
    set.add(listener as Listener<TimedEvent>);
    return () => set.delete(listener as Listener<TimedEvent>);
  }

  onAny(listener: Listener<TimedEvent>): () => void {
    this.all.add(listener);
    return () => this.all.delete(listener);
  }

  emit(event: GatehouseEvent, at: number = Date.now()): void {
    const timed = { ...event, at } as TimedEvent;
    for (const listener of this.byType.get(event.type) ?? []) this.deliver(listener, timed);
    for (const listener of this.all) this.deliver(listener, timed);
  }

  private deliver(listener: Listener<TimedEvent>, event: TimedEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.onListenerError(error, event);
    }
  }
}
