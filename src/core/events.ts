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
  | {
      type: 'authorization.refused';
      flowId: string;
      clientId: string | null;
      error: string;
      description: string;
      redirected: boolean;
    }
  /** `ip`: the client IP address of the sign-in. */
  | {
      type: 'login.succeeded';
      /** Null on a page outside an authorization's interaction (the RFC 8628 verification page). */
      flowId: string | null;
      userId: string;
      username: string;
      clientId: string | null;
      ip: string | null;
    }
  /** `username`: as typed (never the password); the same reason whether or not the user exists. */
  | {
      type: 'login.failed';
      flowId: string | null;
      reason: 'unknown_user_or_wrong_password';
      username: string | null;
      clientId: string | null;
      ip: string | null;
    }
  | { type: 'consent.granted'; flowId: string; userId: string; clientId: string; scope: string[] }
  | { type: 'consent.denied'; flowId: string; userId: string; clientId: string }
  | { type: 'code.issued'; flowId: string; clientId: string; userId: string; grantId: string }
  | { type: 'code.redeemed'; flowId: string; clientId: string; grantId: string }
  | { type: 'code.replayed'; flowId: string; clientId: string; grantId: string }
  /**
   * A code the presenting client (`clientId`) may not redeem, answered with one generic
   * invalid_grant whatever the reason (RFC 6749 §4.1.3); `detail`: for a used code, what was
   * wrong with the request (a used code presented with valid parameters is `code.replayed`).
   */
  | { type: 'code.refused'; flowId: string | null; clientId: string; reason: CodeRefusal; detail: string | null }
  | { type: 'refresh.reused'; flowId: string; clientId: string; grantId: string }
  | {
      type: 'token.revoked';
      flowId: string | null;
      clientId: string;
      kind: 'access_token' | 'refresh_token';
      grantId: string | null;
    }
  | {
      type: 'token.issued';
      flowId: string | null;
      clientId: string;
      grantType: string;
      jti: string;
      grantId: string | null;
      userId: string | null;
    }
  | {
      type: 'token.refused';
      flowId: string | null;
      clientId: string | null;
      grantType: string | null;
      error: string;
      description: string;
    }
  /** A session ended by logout; logout tokens were queued for `backchannelClientIds`. */
  | {
      type: 'logout.succeeded';
      userId: string;
      sid: string | null;
      clientId: string | null;
      backchannelClientIds: string[];
    }
  /** Clients and users changed by an administrator: the CLI, or the config file applied at start. */
  | {
      type: 'client.created' | 'client.updated' | 'client.deleted' | 'client.secret_rotated';
      clientId: string;
      source: ChangeSource;
      actor?: ChangeActor;
    }
  /**
   * draft-ietf-oauth-client-id-metadata-document: the metadata document at a client_id URL could
   * not be used (`reason`); `stale`: a copy fetched earlier, within client_metadata_documents.max_cache_seconds,
   * is used meanwhile.
   */
  | { type: 'client_metadata_document.failed'; clientId: string; reason: string; stale: boolean }
  | {
      type: 'user.created' | 'user.updated' | 'user.deleted';
      userId: string | null;
      username: string;
      source: ChangeSource;
      actor?: ChangeActor;
      /** user.updated: what changed when it is more than the profile (`password`, `disabled`, `enabled`, `admin`). */
      change?: string;
    }
  /** Protected resources (RFC 8707) changed by an administrator. */
  | {
      type: 'resource.created' | 'resource.updated' | 'resource.deleted';
      resource: string;
      source: ChangeSource;
      actor?: ChangeActor;
    }
  /**
   * Revoked by an administrator: a grant (consent given to a client, and every token of it), a
   * refresh token family (RFC 9700 §4.14.2, the tokens of one grant), a sign-in session.
   */
  | {
      type: 'grant.revoked' | 'refresh_family.revoked';
      grantId: string;
      clientId: string;
      userId: string | null;
      source: ChangeSource;
      actor?: ChangeActor;
    }
  | { type: 'session.revoked'; sid: string; userId: string; source: ChangeSource; actor?: ChangeActor }
  /** RFC 7591 §3 initial access tokens created or revoked by an administrator. */
  | {
      type: 'registration_token.created' | 'registration_token.revoked';
      tokenId: string;
      source: ChangeSource;
      actor?: ChangeActor;
    }
  /**
   * A user took back what they gave a client (the account page): its consent deleted, its
   * grants (`grantIds`) revoked with their tokens, a back-channel logout queued where registered.
   */
  | { type: 'consent.revoked'; userId: string; clientId: string; grantIds: string[]; source: ChangeSource }
  /** OpenID Connect Core §10.1.1 key rotation: a new signing key, and a key that stopped signing. */
  | {
      type: 'key.rotated';
      kid: string;
      alg: string;
      activatesAt: number;
      source: ChangeSource;
      actor?: ChangeActor;
    }
  | { type: 'key.retired'; kid: string; alg: string; source: ChangeSource; actor?: ChangeActor }
  /**
   * A brute-force limit locked `subject` (a username as typed, a client_id, or an IP address or
   * IPv6 /64) until `until`, after `attempts` failures (src/core/limits/attempt-limits.ts).
   */
  | {
      type: 'rate_limit.locked';
      flowId: string | null;
      scope: LimitScope;
      subject: string;
      attempts: number;
      until: number;
    };

/** Why a code was not redeemed: never issued (or removed), another client's, expired unused, or used before. */
export type CodeRefusal = 'unknown' | 'issued_to_another_client' | 'expired' | 'already_used';

/** Who made an administrative change. */
/**
 * `registration`: the client itself, at the RFC 7591/7592 registration endpoints; `account`: the
 * user, on their account page; `admin_api`: the admin REST API, whose events name the acting
 * client and user (`actor`); `console`: the web console (src/http/routes/console/), whose events
 * name the signed-in administrator as `actor` (the console's client and the user).
 */
export type ChangeSource = 'cli' | 'config' | 'registration' | 'account' | 'admin_api' | 'console';

/** Who made a change through the admin API: the client the access token was issued to, and its user (null: the client itself). */
export interface ChangeActor {
  clientId: string;
  userId: string | null;
}

/** What a brute-force limit counts: sign-ins per username and per IP, client authentication failures per client and per IP. */
export type LimitScope =
  | 'login_user_address'
  | 'login_username'
  | 'login_ip'
  | 'login_device'
  | 'client_id'
  | 'client_ip'
  | 'interaction_ip'
  | 'user_code_ip'
  | 'user_code_global'
  | 'registration_ip';

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
    if (!set) {
      set = new Set();
      this.byType.set(type, set);
    }
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
