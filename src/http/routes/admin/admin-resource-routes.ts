/**
 * Admin API: protected resources (RFC 8707 resource indicators): registered, changed (If-Match
 * required), deleted. The identifier goes in the path percent-encoded
 * (`/resources/https%3A%2F%2Fapi.example.com%2F`). The logic is
 * src/core/admin/resource-administration.ts, shared with the CLI.
 */
import type { FastifyInstance } from 'fastify';
import type { ProviderContext } from '../../../core/context.js';
import { AdminConflict } from '../../../core/errors.js';
import { checkIfMatch, paginate, sortedBy } from '../../../core/admin/admin-listing.js';
import { deleteResource, existingResource, putResource } from '../../../core/admin/resource-administration.js';
import type { ProtectedResource } from '../../../store/store.js';
import { originOf, type AdminGuard } from './admin-guard.js';
import {
  IF_MATCH_HEADERS,
  PAGE_QUERY,
  PROBLEM_RESPONSES,
  TIME,
  ifMatchOf,
  isoTime,
  page,
  sendTagged,
} from './admin-schemas.js';

const strings = { type: 'array', items: { type: 'string' } } as const;

const RESOURCE = {
  type: 'object',
  required: ['resource', 'name', 'scopes', 'introspection_client_ids', 'created_at'],
  properties: {
    resource: { type: 'string', description: 'the resource indicator (RFC 8707 §2)' },
    name: { type: ['string', 'null'] },
    scopes: strings,
    introspection_client_ids: strings,
    created_at: TIME,
  },
} as const;

function resourceView(resource: ProtectedResource) {
  return {
    resource: resource.identifier,
    name: resource.name,
    scopes: resource.scopes,
    introspection_client_ids: resource.introspectionClientIds,
    created_at: isoTime(resource.createdAt)!,
  };
}

const PARAMS = { type: 'object', required: ['resource'], properties: { resource: { type: 'string' } } } as const;

interface ResourceBody {
  resource?: string;
  name?: string | null;
  scopes?: string[];
  introspection_client_ids?: string[];
}

export function registerAdminResourceRoutes(app: FastifyInstance, context: ProviderContext, guard: AdminGuard): void {
  const deps = { store: context.store, events: context.events, now: () => context.now() };
  const tags = ['resources'];

  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    '/resources',
    {
      onRequest: guard('resources', 'read'),
      schema: {
        tags,
        summary: 'List protected resources (by identifier)',
        querystring: { type: 'object', properties: { ...PAGE_QUERY } },
        response: { 200: page(RESOURCE, 'A page of resources'), ...PROBLEM_RESPONSES },
      },
    },
    async (request) => {
      const views = sortedBy((await context.store.resources.list()).map(resourceView), (view) => view.resource);
      return paginate(views, (view) => view.resource, request.query);
    },
  );

  app.post<{ Body: ResourceBody & { resource: string } }>(
    '/resources',
    {
      onRequest: guard('resources', 'write'),
      schema: {
        tags,
        summary: 'Register a protected resource',
        body: {
          type: 'object',
          required: ['resource'],
          properties: {
            resource: { type: 'string' },
            name: { type: ['string', 'null'] },
            scopes: strings,
            introspection_client_ids: strings,
          },
        },
        response: { 201: { description: 'The resource', ...RESOURCE }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (await context.store.resources.get(body.resource))
        throw new AdminConflict(`resource ${body.resource} is already registered; change it with PATCH`);
      const { resource } = await putResource(
        {
          identifier: body.resource,
          name: body.name ?? null,
          scopes: body.scopes ?? [],
          introspectionClientIds: body.introspection_client_ids ?? [],
        },
        deps,
        originOf(request),
      );
      reply.header('location', `${request.url.replace(/\/$/, '')}/${encodeURIComponent(resource.identifier)}`);
      return sendTagged(reply, resourceView(resource), 201);
    },
  );

  app.get<{ Params: { resource: string } }>(
    '/resources/:resource',
    {
      onRequest: guard('resources', 'read'),
      schema: {
        tags,
        summary: 'Show a protected resource (with its ETag)',
        params: PARAMS,
        response: { 200: { description: 'The resource', ...RESOURCE }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) =>
      sendTagged(reply, resourceView(await existingResource(context.store, request.params.resource))),
  );

  app.patch<{ Params: { resource: string }; Body: Omit<ResourceBody, 'resource'> }>(
    '/resources/:resource',
    {
      onRequest: guard('resources', 'write'),
      schema: {
        tags,
        summary: 'Change a protected resource (members given replace the current ones); If-Match required',
        params: PARAMS,
        headers: IF_MATCH_HEADERS,
        body: {
          type: 'object',
          properties: { name: { type: ['string', 'null'] }, scopes: strings, introspection_client_ids: strings },
        },
        response: { 200: { description: 'The resource', ...RESOURCE }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) => {
      const current = await existingResource(context.store, request.params.resource);
      checkIfMatch(ifMatchOf(request), resourceView(current));
      const body = request.body;
      const { resource } = await putResource(
        {
          identifier: current.identifier,
          name: body.name !== undefined ? body.name : current.name,
          scopes: body.scopes ?? current.scopes,
          introspectionClientIds: body.introspection_client_ids ?? current.introspectionClientIds,
        },
        deps,
        originOf(request),
      );
      return sendTagged(reply, resourceView(resource));
    },
  );

  app.delete<{ Params: { resource: string } }>(
    '/resources/:resource',
    {
      onRequest: guard('resources', 'write'),
      schema: {
        tags,
        summary: 'Delete a protected resource; If-Match required',
        params: PARAMS,
        headers: IF_MATCH_HEADERS,
        response: { 204: { description: 'Deleted', type: 'null' }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) => {
      const current = await existingResource(context.store, request.params.resource);
      checkIfMatch(ifMatchOf(request), resourceView(current));
      await deleteResource(current.identifier, deps, originOf(request));
      return reply.code(204).send();
    },
  );
}
