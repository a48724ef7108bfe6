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
  tokens?: HeldTokens;
  api?: ApiResult;
  steps: Step[];
}

export interface ClientSessions {
  /** The session of the browser that sent `request`, if it has one. */
  find(request: FastifyRequest): BrowserSession | undefined;
  /** The browser's session, created (and its cookie set on `reply`) when it has none. */
  ensure(request: FastifyRequest, reply: FastifyReply): BrowserSession;
  /** A POSTed form from this session's own page (the CSRF token matches). */
  posted(request: FastifyRequest): BrowserSession | undefined;
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

  return { find, ensure, posted };
}
