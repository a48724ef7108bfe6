/**
 * Admin API: what users authorized. Sign-in sessions (listed, ended with Back-Channel Logout
 * 1.0 logout tokens), grants (RFC 6749 §4.1.2: listed, revoked with every token of them),
 * consents (listed, withdrawn with the grants of the user and client), and refresh token
 * families (RFC 9700 §4.14.2: revoked). The logic is src/core/admin/authorization-administration.ts.
 * Revocations are idempotent in effect and overwrite nothing the caller read: no If-Match.
 */
import type { FastifyInstance } from 'fastify';
import type { ProviderContext } from '../../../core/context.js';
import { keysetPage, paginate, sortedBy } from '../../../core/admin/admin-listing.js';
import {
  existingGrant,
  existingSession,
  revokeConsent,
  revokeGrantAsAdmin,
  revokeRefreshFamily,
  revokeSession,
} from '../../../core/admin/authorization-administration.js';
import type { Consent, Grant, Session } from '../../../store/store.js';
import { originOf, type AdminGuard } from './admin-guard.js';
import { NULLABLE_TIME, PAGE_QUERY, PROBLEM_RESPONSES, TIME, isoTime, page, sendTagged } from './admin-schemas.js';

export const SESSION = {
  type: 'object',
  required: ['sid', 'user_id', 'auth_time', 'created_at', 'expires_at'],
  properties: {
    sid: { type: 'string', description: 'the public session id (OpenID Connect sid)' },
    user_id: { type: 'string' },
    auth_time: TIME,
    created_at: TIME,
    expires_at: TIME,
  },
} as const;

export function sessionView(session: Session) {
  return {
    sid: session.sid,
    user_id: session.userId,
    auth_time: isoTime(session.authTime)!,
    created_at: isoTime(session.createdAt)!,
    expires_at: isoTime(session.expiresAt)!,
  };
}

const GRANT = {
  type: 'object',
  required: ['id', 'client_id', 'user_id', 'scope', 'sid', 'created_at', 'revoked_at'],
  properties: {
    id: { type: 'string' },
    client_id: { type: 'string' },
    user_id: { type: ['string', 'null'] },
    scope: { type: 'array', items: { type: 'string' } },
    sid: { type: ['string', 'null'] },
    created_at: TIME,
    revoked_at: NULLABLE_TIME,
  },
} as const;

function grantView(grant: Grant) {
  return {
    id: grant.id,
    client_id: grant.clientId,
    user_id: grant.userId,
    scope: grant.scope,
    sid: grant.sid,
    created_at: isoTime(grant.createdAt)!,
    revoked_at: isoTime(grant.revokedAt),
  };
}

const CONSENT = {
  type: 'object',
  required: ['user_id', 'client_id', 'scopes', 'granted_at'],
  properties: {
    user_id: { type: 'string' },
    client_id: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    granted_at: TIME,
  },
} as const;

function consentView(consent: Consent) {
  return {
    user_id: consent.userId,
    client_id: consent.clientId,
    scopes: consent.scopes,
    granted_at: isoTime(consent.grantedAt)!,
  };
}

const NO_CONTENT = { 204: { description: 'Revoked', type: 'null' }, ...PROBLEM_RESPONSES } as const;
const stringParams = (...names: string[]) =>
  ({
    type: 'object',
    required: names,
    properties: Object.fromEntries(names.map((name) => [name, { type: 'string' }])),
  }) as const;

export function registerAdminSessionRoutes(app: FastifyInstance, context: ProviderContext, guard: AdminGuard): void {
  const deps = { store: context.store, events: context.events, now: () => context.now() };
  const tags = ['sessions and grants'];

  app.get<{ Querystring: { limit?: number; cursor?: string; user_id?: string } }>(
    '/sessions',
    {
      onRequest: guard('sessions', 'read'),
      schema: {
        tags,
        summary: 'List live sign-in sessions (by sid)',
        querystring: { type: 'object', properties: { ...PAGE_QUERY, user_id: { type: 'string' } } },
        response: { 200: page(SESSION, 'A page of sessions'), ...PROBLEM_RESPONSES },
      },
    },
    async (request) => {
      const now = context.now();
      const { items, next_cursor } = await keysetPage(
        (after, limit) => context.store.sessions.list({ userId: request.query.user_id, after, limit }, now),
        (session) => session.sid,
        request.query,
      );
      return { items: items.map(sessionView), next_cursor };
    },
  );

  app.get<{ Params: { sid: string } }>(
    '/sessions/:sid',
    {
      onRequest: guard('sessions', 'read'),
      schema: {
        tags,
        summary: 'Show a live session',
        params: stringParams('sid'),
        response: { 200: { description: 'The session', ...SESSION }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) =>
      sendTagged(reply, sessionView(await existingSession(context.store, request.params.sid, context.now()))),
  );

  app.delete<{ Params: { sid: string } }>(
    '/sessions/:sid',
    {
      onRequest: guard('sessions', 'write'),
      schema: {
        tags,
        summary:
          'End a session (its clients with a backchannel_logout_uri get a logout token); its tokens stay valid until their grants are revoked',
        params: stringParams('sid'),
        response: NO_CONTENT,
      },
    },
    async (request, reply) => {
      const session = await existingSession(context.store, request.params.sid, context.now());
      await revokeSession(session, context, originOf(request));
      return reply.code(204).send();
    },
  );

  app.get<{
    Querystring: { limit?: number; cursor?: string; user_id?: string; client_id?: string; revoked?: boolean };
  }>(
    '/grants',
    {
      onRequest: guard('sessions', 'read'),
      schema: {
        tags,
        summary: 'List grants (one per authorization; by id)',
        querystring: {
          type: 'object',
          properties: {
            ...PAGE_QUERY,
            user_id: { type: 'string' },
            client_id: { type: 'string' },
            revoked: { type: 'boolean', description: 'only revoked (true) or only active (false) grants' },
          },
        },
        response: { 200: page(GRANT, 'A page of grants'), ...PROBLEM_RESPONSES },
      },
    },
    async (request) => {
      const { user_id: userId, client_id: clientId, revoked } = request.query;
      const { items, next_cursor } = await keysetPage(
        (after, limit) => context.store.grants.list({ userId, clientId, revoked, after, limit }),
        (grant) => grant.id,
        request.query,
      );
      return { items: items.map(grantView), next_cursor };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/grants/:id',
    {
      onRequest: guard('sessions', 'write'),
      schema: {
        tags,
        summary: 'Revoke a grant: its access tokens, refresh tokens and codes stop working',
        params: stringParams('id'),
        response: NO_CONTENT,
      },
    },
    async (request, reply) => {
      await revokeGrantAsAdmin(await existingGrant(context.store, request.params.id), deps, originOf(request));
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: { limit?: number; cursor?: string; user_id?: string; client_id?: string } }>(
    '/consents',
    {
      onRequest: guard('sessions', 'read'),
      schema: {
        tags,
        summary: 'List consents (remembered scopes a user granted a client)',
        querystring: {
          type: 'object',
          properties: { ...PAGE_QUERY, user_id: { type: 'string' }, client_id: { type: 'string' } },
        },
        response: { 200: page(CONSENT, 'A page of consents'), ...PROBLEM_RESPONSES },
      },
    },
    async (request) => {
      const { user_id: userId, client_id: clientId } = request.query;
      const key = (consent: { user_id: string; client_id: string }) => `${consent.user_id} ${consent.client_id}`;
      const views = sortedBy((await context.store.consents.list({ userId, clientId })).map(consentView), key);
      return paginate(views, key, request.query);
    },
  );

  app.delete<{ Params: { user_id: string; client_id: string } }>(
    '/consents/:user_id/:client_id',
    {
      onRequest: guard('sessions', 'write'),
      schema: {
        tags,
        summary: "Withdraw a user's consent to a client and revoke every grant of the two",
        params: stringParams('user_id', 'client_id'),
        response: NO_CONTENT,
      },
    },
    async (request, reply) => {
      await revokeConsent(request.params.user_id, request.params.client_id, deps, originOf(request));
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { grant_id: string } }>(
    '/refresh-token-families/:grant_id',
    {
      onRequest: guard('sessions', 'write'),
      schema: {
        tags,
        summary:
          'Revoke the refresh token family of a grant (RFC 9700 §4.14.2): every refresh token of it and the access tokens issued with them',
        params: stringParams('grant_id'),
        response: NO_CONTENT,
      },
    },
    async (request, reply) => {
      await revokeRefreshFamily(request.params.grant_id, deps, originOf(request));
      return reply.code(204).send();
    },
  );
}
