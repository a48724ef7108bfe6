/**
 * The demo web client's per-browser state: kept in memory, keyed by a random HttpOnly cookie,
 * at most MAX_SESSIONS browsers (the oldest is forgotten first). Each holds what the client
 * knows for that browser (a sign-in in progress, the tokens, the last API answer) and the steps
 * of the protocol its pages tell.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseCookies } from '../http/cookies.js';

const COOKIE = 'demo_client_sid';
const MAX_SESSIONS = 1000;

export type StepKind = 'front' | 'back' | 'api' | 'error';

/** One step of the protocol, told in plain sentences. */
export interface Step {
  kind: StepKind;
  tag: string;
  text: string;
  /** What travelled, in the order it was sent. */
  sent?: string;
  /** Where the flow inspector shows this step (a flow, or the list of flows). */
  inspect?: string;
}

export interface HeldTokens {
  accessToken: string;
  idToken: string | undefined;
  refreshToken: string | undefined;
  tokenType: string;
  expiresIn: number | undefined;
  scope: string | undefined;
  receivedAt: number;
  /** The refresh token this set replaced, if it came from a refresh. */
  replacedRefreshToken?: string;
  /** The ID token's `sub` and `sid`: what a Back-Channel Logout 1.0 logout token names. */
  sub?: string;
  sid?: string;
}

export interface ApiResult {
  status: number;
  body: unknown;
  wwwAuthenticate: string | null;
}

export interface BrowserSession {
  id: string;
  csrf: string;
  pending?: { state: string; nonce: string; verifier: string };
  /** The last code redeemed and its verifier, kept only to replay it on purpose (client-mistakes.ts). */
  redeemed?: { code: string; verifier: string };
  tokens?: HeldTokens;
  api?: ApiResult;
  /** The UserInfo response (OpenID Connect Core §5.3.2), or why it could not be fetched. */
  userinfo?: { claims: Record<string, unknown> } | { error: string };
  /** The `state` of an RP-initiated logout in progress (RP-Initiated Logout 1.0 §2). */
  logoutState?: string;
  steps: Step[];
}

export interface ClientSessions {
  /** The session of the browser that sent `request`, if it has one. */
  find(request: FastifyRequest): BrowserSession | undefined;
  /** The browser's session, created (and its cookie set on `reply`) when it has none. */
  ensure(request: FastifyRequest, reply: FastifyReply): BrowserSession;
  /** A POSTed form from this session's own page (the CSRF token matches). */
  posted(request: FastifyRequest): BrowserSession | undefined;
  /**
   * Back-Channel Logout 1.0 §2.7: forgets the tokens of every browser signed in with the
   * session `sid` (or, for a logout token without `sid`, the subject `sub`); returns how many.
   */
  signOut(match: { sid?: string; sub?: string }, step: Step): number;
}

/** Forgets what the client holds for a signed-in browser (tokens, API answer, UserInfo). */
export function forgetTokens(session: BrowserSession): void {
  delete session.tokens;
  delete session.api;
  delete session.userinfo;
}

export function clientSessions(): ClientSessions {
  const sessions = new Map<string, BrowserSession>();

  function find(request: FastifyRequest): BrowserSession | undefined {
    const id = parseCookies(request.headers.cookie).get(COOKIE);
    return id === undefined ? undefined : sessions.get(id);
  }

  function ensure(request: FastifyRequest, reply: FastifyReply): BrowserSession {
    const existing = find(request);
    if (existing) return existing;
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
    const session: BrowserSession = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(24).toString('base64url'),
      steps: [],
    };
    sessions.set(session.id, session);
    reply.header('set-cookie', `${COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Lax`);
    return session;
  }

  function posted(request: FastifyRequest): BrowserSession | undefined {
    const session = find(request);
    const sent = request.body instanceof URLSearchParams ? request.body.get('csrf_token') : null;
    if (!session || sent === null) return undefined;
    const a = Buffer.from(sent);
    const b = Buffer.from(session.csrf);
    return a.length === b.length && timingSafeEqual(a, b) ? session : undefined;
  }

  function signOut(match: { sid?: string; sub?: string }, step: Step): number {
    let count = 0;
    for (const session of sessions.values()) {
      const tokens = session.tokens;
      if (!tokens) continue;
      const hit =
        match.sid !== undefined ? tokens.sid === match.sid : match.sub !== undefined && tokens.sub === match.sub;
      if (!hit) continue;
      forgetTokens(session);
      session.steps = [step];
      count += 1;
    }
    return count;
  }

  return { find, ensure, posted, signOut };
}
