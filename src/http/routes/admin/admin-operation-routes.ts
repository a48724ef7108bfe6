/**
 * Admin API: the audit trail (queried newest first, with filters) and the initial access tokens
 * of dynamic client registration (RFC 7591 §3: created with the token shown once, listed, revoked).
 */
import type { FastifyInstance } from 'fastify';
import type { ProviderContext } from '../../../core/context.js';
import { AdminNotFound } from '../../../core/errors.js';
import { paginate, sortedBy } from '../../../core/admin/admin-listing.js';
import { queryAuditEvents } from '../../../core/admin/audit-query.js';
import { createInitialAccessToken, isUsable } from '../../../core/registration/registration-access-token.js';
import type { AuditEvent, InitialAccessToken } from '../../../store/store.js';
import { originOf, type AdminGuard } from './admin-guard.js';
import { NULLABLE_TIME, PAGE_QUERY, PROBLEM_RESPONSES, TIME, isoTime, page } from './admin-schemas.js';

const AUDIT_EVENT = {
  type: 'object',
  required: ['id', 'at', 'type', 'flow_id', 'client_id', 'user_id', 'username', 'ip', 'details'],
  properties: {
    id: { type: 'integer' },
    at: TIME,
    type: { type: 'string' },
    flow_id: { type: ['string', 'null'] },
    client_id: { type: ['string', 'null'] },
    user_id: { type: ['string', 'null'] },
    username: { type: ['string', 'null'] },
    ip: { type: ['string', 'null'] },
    details: {
      type: 'object',
      additionalProperties: true,
      description: 'the rest of the event; a change made through the admin API names its actor (client_id, user_id)',
    },
  },
} as const;

function auditView(event: AuditEvent) {
  return {
    id: event.id ?? 0,
    at: isoTime(event.at)!,
    type: event.type,
    flow_id: event.flowId,
    client_id: event.clientId,
    user_id: event.userId,
    username: event.username,
    ip: event.ip,
    details: event.details,
  };
}

const TOKEN = {
  type: 'object',
  required: ['id', 'created_at', 'expires_at', 'uses_left', 'revoked_at', 'usable'],
  properties: {
    id: { type: 'string' },
    created_at: TIME,
    expires_at: NULLABLE_TIME,
    uses_left: { type: ['integer', 'null'] },
    revoked_at: NULLABLE_TIME,
    usable: { type: 'boolean' },
  },
} as const;

function tokenView(token: InitialAccessToken, now: number) {
  return {
    id: token.id,
    created_at: isoTime(token.createdAt)!,
    expires_at: isoTime(token.expiresAt),
    uses_left: token.usesLeft,
    revoked_at: isoTime(token.revokedAt),
    usable: isUsable(token, now),
  };
}

export function registerAdminOperationRoutes(app: FastifyInstance, context: ProviderContext, guard: AdminGuard): void {
  app.get<{
    Querystring: { limit?: number; cursor?: string; type?: string; client_id?: string; user?: string; since?: string };
  }>(
    '/audit-events',
    {
      onRequest: guard('audit', 'read'),
      schema: {
        tags: ['audit'],
        summary: 'Query the audit trail, newest first',
        querystring: {
          type: 'object',
          properties: {
            ...PAGE_QUERY,
            type: { type: 'string', description: 'event types, comma-separated (e.g. client.created,user.updated)' },
            client_id: { type: 'string' },
            user: { type: 'string', description: 'a username or user id' },
            since: { type: 'string', description: 'only events at or after this RFC 3339 date-time' },
          },
        },
        response: { 200: page(AUDIT_EVENT, 'A page of audit events'), ...PROBLEM_RESPONSES },
      },
    },
    async (request) => {
      const page = await queryAuditEvents(context.store, request.query);
      return { items: page.items.map(auditView), next_cursor: page.next_cursor };
    },
  );

  const tags = ['registration tokens'];
  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    '/registration-tokens',
    {
      onRequest: guard('registration_tokens', 'read'),
      schema: {
        tags,
        summary: 'List initial access tokens (RFC 7591 §3; never the tokens themselves)',
        querystring: { type: 'object', properties: { ...PAGE_QUERY } },
        response: { 200: page(TOKEN, 'A page of registration tokens'), ...PROBLEM_RESPONSES },
      },
    },
    async (request) => {
      const now = context.now();
      const views = (await context.store.registrations.listTokens()).map((token) => tokenView(token, now));
      return paginate(
        sortedBy(views, (view) => view.id),
        (view) => view.id,
        request.query,
      );
    },
  );

  app.post<{ Body: { expires_in?: number; uses?: number } }>(
    '/registration-tokens',
    {
      onRequest: guard('registration_tokens', 'write'),
      schema: {
        tags,
        summary: 'Create an initial access token for POST /register (registration.mode: token); shown once',
        body: {
          type: 'object',
          properties: {
            expires_in: { type: 'integer', minimum: 1, maximum: 315360000, description: 'seconds (default: never)' },
            uses: { type: 'integer', minimum: 1, maximum: 1000000, description: 'registrations (default: any number)' },
          },
        },
        response: {
          201: {
            description: 'The token (shown only now) and its record',
            ...TOKEN,
            required: [...TOKEN.required, 'token'],
            properties: { ...TOKEN.properties, token: { type: 'string' } },
          },
          ...PROBLEM_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const now = context.now();
      const { token, record } = await createInitialAccessToken(context.store, {
        now,
        ...(body.expires_in !== undefined ? { expiresInSeconds: body.expires_in } : {}),
        ...(body.uses !== undefined ? { uses: body.uses } : {}),
      });
      context.events.emit({ type: 'registration_token.created', tokenId: record.id, ...originOf(request) }, now);
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...tokenView(record, now), token });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/registration-tokens/:id',
    {
      onRequest: guard('registration_tokens', 'write'),
      schema: {
        tags,
        summary: 'Revoke an initial access token',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
        response: { 204: { description: 'Revoked', type: 'null' }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) => {
      const now = context.now();
      if (!(await context.store.registrations.revokeToken(request.params.id, now)))
        throw new AdminNotFound(`no unrevoked registration token ${request.params.id}`);
      context.events.emit(
        { type: 'registration_token.revoked', tokenId: request.params.id, ...originOf(request) },
        now,
      );
      return reply.code(204).send();
    },
  );
}
