/**
 * The console's dashboard, protected resources (RFC 8707), signing keys, sessions and grants,
 * and audit log pages (src/ui/console-operation-pages.ts and console-pages.ts). As in
 * ./console-client-routes.ts, reads and changes go through the admin API's core functions
 * (src/core/admin/*) with the signed-in administrator as the actor.
 */
import type { FastifyInstance } from 'fastify';
import { keysetPage, paginate, sortedBy } from '../../../core/admin/admin-listing.js';
import { queryAuditEvents } from '../../../core/admin/audit-query.js';
import {
  existingGrant,
  existingSession,
  revokeGrantAsAdmin,
  revokeSession,
} from '../../../core/admin/authorization-administration.js';
import { listKeys, requiredSigningAlgs, retireKey, rotateKey } from '../../../core/admin/key-administration.js';
import { deleteResource, putResource } from '../../../core/admin/resource-administration.js';
import { AdminNotFound } from '../../../core/errors.js';
import type { ProtectedResource } from '../../../store/store.js';
import { renderConfirmDelete, renderDashboard } from '../../../ui/console-pages.js';
import {
  renderAudit,
  renderKeys,
  renderResourceForm,
  renderResourceList,
  renderSessions,
  type AuditFilters,
  type ResourceRow,
} from '../../../ui/console-operation-pages.js';
import { pagePath } from '../../html-response.js';
import { INSPECTOR_BASE } from '../inspector.js';
import { HTML_ROUTE, attempt, wordsOf, type ConsoleCall, type ConsoleRoutes } from './console-context.js';

const PAGE_SIZE = 25;

/** The audit event types of things that went wrong, for the dashboard. */
export const FAILURE_TYPES = [
  'authorization.refused',
  'login.failed',
  'code.refused',
  'code.replayed',
  'refresh.reused',
  'token.refused',
  'client_metadata_document.failed',
  'rate_limit.locked',
];

function resourceRow(resource: ProtectedResource): ResourceRow {
  return {
    resource: resource.identifier,
    name: resource.name,
    scopes: resource.scopes,
    introspectionClientIds: resource.introspectionClientIds,
  };
}

/** A `datetime-local` value (no zone: taken as UTC, as every time in the console is shown) as RFC 3339. */
function sinceOf(value: string): string | undefined {
  if (value === '') return undefined;
  return /(Z|[+-]\d\d:\d\d)$/i.test(value) ? value : `${value.length === 16 ? `${value}:00` : value}Z`;
}

export function registerConsoleOperationRoutes(app: FastifyInstance, routes: ConsoleRoutes): void {
  const { context } = routes;
  const deps = { store: context.store, events: context.events, now: () => context.now() };
  const keyDeps = { ...deps, settings: context.settings };
  const resourcesPath = () => `${routes.base()}/resources`;
  const resourcePath = (id: string) => `${resourcesPath()}/${encodeURIComponent(id)}`;
  const path = (suffix: string) => `/console${suffix}`;

  app.get(path(''), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'dashboard', 'audit', 'read');
    if (!call) return reply;
    const now = context.now();
    const [clients, users, resources, sessions, failures] = await Promise.all([
      context.store.clients.list(),
      context.store.users.list(),
      context.store.resources.list(),
      context.store.sessions.list({}, now),
      queryAuditEvents(context.store, { limit: 10, type: FAILURE_TYPES.join(',') }),
    ]);
    const issuer = context.settings.issuer;
    return routes.send(
      reply,
      renderDashboard(call.frame, {
        counts: {
          clients: clients.filter((client) => !client.metadataDocument).length,
          users: users.length,
          resources: resources.length,
          sessions: sessions.length,
        },
        failures: failures.items.map((event) => ({
          at: event.at,
          type: event.type,
          clientId: event.clientId,
          username: event.username,
          flowId: event.flowId,
        })),
        // The flow inspector's page of a flow (docs/inspector.md), only while it is on.
        flowHref:
          context.inspector === undefined
            ? null
            : (flowId) => pagePath(issuer, `${INSPECTOR_BASE}/flows/${encodeURIComponent(flowId)}`),
      }),
    );
  });

  app.get(path('/resources'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'resources', 'resources', 'read');
    if (!call) return reply;
    const rows = sortedBy((await context.store.resources.list()).map(resourceRow), (row) => row.resource);
    const page = paginate(rows, (row) => row.resource, { limit: PAGE_SIZE, cursor: call.query.get('cursor') });
    return routes.send(
      reply,
      renderResourceList(call.frame, { items: page.items, nextCursor: page.next_cursor, done: routes.notice(call) }),
    );
  });

  app.get(path('/resources/new'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'resources', 'resources', 'write');
    if (!call) return reply;
    const values = { resource: '', name: '', scopes: '', introspection: '' };
    return routes.send(reply, renderResourceForm(call.frame, { values, isNew: true }));
  });

  /** The resource form as entered, and putResource's input. */
  const posted = (call: ConsoleCall, identifier: string) => {
    const values = {
      resource: identifier,
      name: call.form.get('name')?.trim() ?? '',
      scopes: call.form.get('scopes')?.trim() ?? '',
      introspection: call.form.get('introspection_client_ids') ?? '',
    };
    const input = {
      identifier,
      name: values.name === '' ? null : values.name,
      scopes: wordsOf(values.scopes),
      introspectionClientIds: wordsOf(values.introspection),
    };
    return { values, input };
  };

  app.post(path('/resources'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'resources', 'resources', 'write');
    if (!call) return reply;
    const { values, input } = posted(call, call.form.get('resource')?.trim() ?? '');
    const taken = input.identifier !== '' && (await context.store.resources.get(input.identifier)) !== undefined;
    const result = taken
      ? { refused: call.page.t.text('console.resources_taken') }
      : await attempt(() => putResource(input, deps, call.origin));
    if ('refused' in result)
      return routes.send(reply, renderResourceForm(call.frame, { values, isNew: true, problem: result.refused }), 400);
    return routes.redirect(reply, resourcePath(input.identifier), 'created');
  });

  app.get<{ Params: { id: string } }>(path('/resources/:id'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'resources', 'resources', 'read');
    if (!call) return reply;
    const resource = await context.store.resources.get(request.params.id);
    if (!resource) return routes.notFound(reply, call);
    const values = {
      resource: resource.identifier,
      name: resource.name ?? '',
      scopes: resource.scopes.join(' '),
      introspection: resource.introspectionClientIds.join('\n'),
    };
    return routes.send(reply, renderResourceForm(call.frame, { values, isNew: false, done: routes.notice(call) }));
  });

  app.post<{ Params: { id: string } }>(path('/resources/:id'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'resources', 'resources', 'write');
    if (!call) return reply;
    const resource = await context.store.resources.get(request.params.id);
    if (!resource) return routes.notFound(reply, call);
    const { values, input } = posted(call, resource.identifier);
    const result = await attempt(() => putResource(input, deps, call.origin));
    if ('refused' in result)
      return routes.send(reply, renderResourceForm(call.frame, { values, isNew: false, problem: result.refused }), 400);
    return routes.redirect(reply, resourcePath(resource.identifier), 'saved');
  });

  app.get<{ Params: { id: string } }>(path('/resources/:id/delete'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'resources', 'resources', 'write');
    if (!call) return reply;
    const resource = await context.store.resources.get(request.params.id);
    if (!resource) return routes.notFound(reply, call);
    const self = resourcePath(resource.identifier);
    return routes.send(
      reply,
      renderConfirmDelete(call.frame, { what: resource.identifier, action: `${self}/delete`, back: self }),
    );
  });

  app.post<{ Params: { id: string } }>(path('/resources/:id/delete'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'resources', 'resources', 'write');
    if (!call) return reply;
    const resource = await context.store.resources.get(request.params.id);
    if (!resource) return routes.notFound(reply, call);
    await deleteResource(resource.identifier, deps, call.origin);
    return routes.redirect(reply, resourcesPath(), 'deleted');
  });

  const showKeys = async (call: ConsoleCall, problem?: string) => {
    const rows = sortedBy(
      (await listKeys(keyDeps)).map(({ record, state }) => ({
        kid: record.kid,
        alg: record.alg,
        state,
        createdAt: record.createdAt,
        activatesAt: record.activatesAt,
        retiredAt: record.retiredAt,
      })),
      (row) => row.kid,
    );
    const page = paginate(rows, (row) => row.kid, { limit: PAGE_SIZE, cursor: call.query.get('cursor') });
    return renderKeys(call.frame, {
      items: page.items,
      nextCursor: page.next_cursor,
      algs: [...new Set(requiredSigningAlgs(context.settings))],
      problem,
      done: routes.notice(call),
    });
  };

  app.get(path('/keys'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'keys', 'keys', 'read');
    if (!call) return reply;
    return routes.send(reply, await showKeys(call));
  });

  app.post(path('/keys'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'keys', 'keys', 'write');
    if (!call) return reply;
    const result = await attempt(() => rotateKey({ alg: call.form.get('alg') }, keyDeps, call.origin));
    if ('refused' in result) return routes.send(reply, await showKeys(call, result.refused), 400);
    return routes.redirect(reply, `${routes.base()}/keys`, 'rotated');
  });

  app.post<{ Params: { kid: string } }>(path('/keys/:kid/retire'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'keys', 'keys', 'write');
    if (!call) return reply;
    const result = await attempt(() => retireKey(request.params.kid, keyDeps, call.origin));
    if ('refused' in result) return routes.send(reply, await showKeys(call, result.refused), 409);
    return routes.redirect(reply, `${routes.base()}/keys`, 'retired');
  });

  app.get(path('/sessions'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'sessions', 'sessions', 'read');
    if (!call) return reply;
    const now = context.now();
    // Paged in the store, as the admin API's listings (keyset on sid / id): these tables grow with traffic.
    const [sessionPage, grantPage, users] = await Promise.all([
      keysetPage(
        (after, limit) => context.store.sessions.list({ after, limit }, now),
        (session) => session.sid,
        { limit: PAGE_SIZE, cursor: call.query.get('cursor') },
      ),
      keysetPage(
        (after, limit) => context.store.grants.list({ revoked: false, after, limit }),
        (grant) => grant.id,
        { limit: PAGE_SIZE, cursor: call.query.get('grants_cursor') },
      ),
      context.store.users.list(),
    ]);
    const names = new Map(users.map((user) => [user.id, user.username]));
    return routes.send(
      reply,
      renderSessions(call.frame, {
        sessions: sessionPage.items.map((session) => ({
          sid: session.sid,
          username: names.get(session.userId) ?? session.userId,
          authTime: session.authTime,
          expiresAt: session.expiresAt,
        })),
        sessionsNext: sessionPage.next_cursor,
        grants: grantPage.items.map((grant) => ({
          id: grant.id,
          clientId: grant.clientId,
          username: grant.userId === null ? null : (names.get(grant.userId) ?? grant.userId),
          scope: grant.scope,
          createdAt: grant.createdAt,
        })),
        grantsNext: grantPage.next_cursor,
        done: routes.notice(call),
      }),
    );
  });

  app.post<{ Params: { sid: string } }>(path('/sessions/:sid/revoke'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'sessions', 'sessions', 'write');
    if (!call) return reply;
    try {
      // Ends the session with Back-Channel Logout 1.0 logout tokens, as the admin API's DELETE.
      await revokeSession(
        await existingSession(context.store, request.params.sid, context.now()),
        context,
        call.origin,
      );
    } catch (error) {
      if (error instanceof AdminNotFound) return routes.notFound(reply, call);
      throw error;
    }
    return routes.redirect(reply, `${routes.base()}/sessions`, 'revoked');
  });

  app.post<{ Params: { id: string } }>(path('/grants/:id/revoke'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'sessions', 'sessions', 'write');
    if (!call) return reply;
    const grant = await existingGrant(context.store, request.params.id).catch(() => undefined);
    if (!grant) return routes.notFound(reply, call);
    // RFC 6749 §4.1.2: every token issued with the grant goes too.
    await revokeGrantAsAdmin(grant, deps, call.origin);
    return routes.redirect(reply, `${routes.base()}/sessions`, 'revoked');
  });

  app.get(path('/audit'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'audit', 'audit', 'read');
    if (!call) return reply;
    const filters: AuditFilters = {
      type: call.query.get('type')?.trim() ?? '',
      client_id: call.query.get('client_id')?.trim() ?? '',
      user: call.query.get('user')?.trim() ?? '',
      since: call.query.get('since')?.trim() ?? '',
    };
    const result = await attempt(() =>
      queryAuditEvents(context.store, {
        limit: PAGE_SIZE,
        cursor: call.query.get('cursor'),
        ...(filters.type !== '' ? { type: filters.type } : {}),
        ...(filters.client_id !== '' ? { client_id: filters.client_id } : {}),
        ...(filters.user !== '' ? { user: filters.user } : {}),
        since: sinceOf(filters.since),
      }),
    );
    const page = 'refused' in result ? { items: [], next_cursor: null } : result.ok;
    return routes.send(
      reply,
      renderAudit(call.frame, {
        items: page.items.map((event) => ({
          id: event.id ?? 0,
          at: event.at,
          type: event.type,
          clientId: event.clientId,
          username: event.username,
          details: JSON.stringify(event.details),
        })),
        filters,
        nextCursor: page.next_cursor,
        problem: 'refused' in result ? result.refused : undefined,
      }),
      'refused' in result ? 400 : 200,
    );
  });
}
