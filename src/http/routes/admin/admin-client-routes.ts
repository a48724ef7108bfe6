/**
 * Admin API: clients (RFC 7591 §2 metadata). Created with the secret shown once, updated with a
 * JSON merge of metadata (If-Match required), their secret rotated, deleted. The logic is
 * src/core/admin/client-administration.ts, shared with the CLI.
 */
import type { FastifyInstance } from 'fastify';
import type { ProviderContext } from '../../../core/context.js';
import { checkIfMatch, entityTag, paginate } from '../../../core/admin/admin-listing.js';
import {
  deleteClient,
  existingClient,
  prepareClient,
  rotateClientSecret,
  storeNewClient,
  updateClient,
} from '../../../core/admin/client-administration.js';
import { clientToMetadata } from '../../../core/registration/client-registration.js';
import type { Client } from '../../../store/store.js';
import { originOf, type AdminGuard } from './admin-guard.js';
import { IF_MATCH_HEADERS, PAGE_QUERY, PROBLEM_RESPONSES, ifMatchOf, page, sendTagged } from './admin-schemas.js';

const uriList = { type: 'array', items: { type: 'string' } } as const;

/** A client's metadata as RFC 7591 §3.2.1 shows it (never the secret or its hash). */
const CLIENT = {
  type: 'object',
  required: ['client_id', 'client_type', 'redirect_uris', 'grant_types', 'token_endpoint_auth_method', 'scope'],
  additionalProperties: true,
  properties: {
    client_id: { type: 'string' },
    client_name: { type: 'string' },
    client_type: { type: 'string', enum: ['public', 'confidential'] },
    redirect_uris: uriList,
    grant_types: uriList,
    response_types: uriList,
    token_endpoint_auth_method: { type: 'string' },
    scope: { type: 'string' },
    require_pkce: { type: 'boolean' },
    subject_type: { type: 'string' },
    post_logout_redirect_uris: uriList,
    backchannel_logout_uri: { type: 'string' },
    client_id_issued_at: { type: 'integer' },
  },
} as const;

const WITH_SECRET = {
  ...CLIENT,
  properties: {
    ...CLIENT.properties,
    client_secret: { type: 'string', description: 'shown only in this response; Gatehouse keeps a hash' },
  },
} as const;

/** RFC 7591 §2 client metadata: any of its members; unknown members are ignored (§2). */
const METADATA = {
  type: 'object',
  additionalProperties: true,
  properties: {
    client_id: { type: 'string', description: 'default: a random one' },
    client_name: { type: 'string' },
    redirect_uris: uriList,
    grant_types: uriList,
    token_endpoint_auth_method: { type: 'string' },
    scope: { type: 'string' },
    client_secret: { type: 'string', description: 'a chosen secret (default: a generated one, returned once)' },
  },
} as const;

const CLIENT_ID_PARAMS = {
  type: 'object',
  required: ['client_id'],
  properties: { client_id: { type: 'string' } },
} as const;

export function registerAdminClientRoutes(app: FastifyInstance, context: ProviderContext, guard: AdminGuard): void {
  const deps = { store: context.store, events: context.events, now: () => context.now() };
  const view = (client: Client) => clientToMetadata(client);
  const matches = (ifMatch: string | undefined) => (current: Client) => checkIfMatch(ifMatch, view(current));
  const tags = ['clients'];

  app.get<{ Querystring: { limit?: number; cursor?: string; client_type?: 'public' | 'confidential' } }>(
    '/clients',
    {
      onRequest: guard('clients', 'read'),
      schema: {
        tags,
        summary: 'List clients (by client_id)',
        querystring: {
          type: 'object',
          properties: { ...PAGE_QUERY, client_type: { type: 'string', enum: ['public', 'confidential'] } },
        },
        response: { 200: page(CLIENT, 'A page of clients'), ...PROBLEM_RESPONSES },
      },
    },
    async (request) => {
      const type = request.query.client_type;
      const clients = (await context.store.clients.list())
        .map(view)
        .filter((client) => type === undefined || client.client_type === type)
        .sort((a, b) => (a.client_id < b.client_id ? -1 : 1));
      return paginate(clients, (client) => client.client_id, request.query);
    },
  );

  app.post<{ Body: Record<string, unknown> }>(
    '/clients',
    {
      onRequest: guard('clients', 'write'),
      schema: {
        tags,
        summary: 'Register a client; a confidential client gets a secret that is shown once',
        body: METADATA,
        response: {
          201: { description: 'The client, with its generated secret', ...WITH_SECRET },
          ...PROBLEM_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const { client, clientSecret } = await prepareClient(request.body, context.settings, context.now());
      await storeNewClient(client, deps, originOf(request));
      reply.header('location', `${request.url.replace(/\/$/, '')}/${encodeURIComponent(client.clientId)}`);
      // The ETag is that of the client as GET shows it (without the secret).
      reply.header('etag', entityTag(view(client)));
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send(clientSecret !== null ? { ...view(client), client_secret: clientSecret } : view(client));
    },
  );

  app.get<{ Params: { client_id: string } }>(
    '/clients/:client_id',
    {
      onRequest: guard('clients', 'read'),
      schema: {
        tags,
        summary: 'Show a client (with its ETag)',
        params: CLIENT_ID_PARAMS,
        response: { 200: { description: 'The client', ...CLIENT }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) => sendTagged(reply, view(await existingClient(context.store, request.params.client_id))),
  );

  app.patch<{ Params: { client_id: string }; Body: Record<string, unknown> }>(
    '/clients/:client_id',
    {
      onRequest: guard('clients', 'write'),
      schema: {
        tags,
        summary:
          "Change a client's metadata (members given replace the current ones; a list replaces the whole list); If-Match required",
        params: CLIENT_ID_PARAMS,
        headers: IF_MATCH_HEADERS,
        body: METADATA,
        response: { 200: { description: 'The updated client', ...CLIENT }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) => {
      // The client_id, secret and authentication method are not changed here (rotate the secret instead).
      const { client_id: _id, client_secret: _secret, token_endpoint_auth_method: _method, ...changes } = request.body;
      const updated = await updateClient(
        request.params.client_id,
        changes,
        deps,
        context.settings,
        originOf(request),
        matches(ifMatchOf(request)),
      );
      return sendTagged(reply, view(updated));
    },
  );

  app.delete<{ Params: { client_id: string }; Querystring: { force?: boolean } }>(
    '/clients/:client_id',
    {
      onRequest: guard('clients', 'write'),
      schema: {
        tags,
        summary: 'Delete a client and everything issued to it; If-Match required',
        params: CLIENT_ID_PARAMS,
        headers: IF_MATCH_HEADERS,
        querystring: {
          type: 'object',
          properties: {
            force: {
              type: 'boolean',
              description: 'also when a resource names it as introspection client: remove it from the resource too',
            },
          },
        },
        response: { 204: { description: 'Deleted', type: 'null' }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) => {
      await deleteClient(
        request.params.client_id,
        { force: request.query.force === true },
        deps,
        originOf(request),
        matches(ifMatchOf(request)),
      );
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { client_id: string } }>(
    '/clients/:client_id/secret',
    {
      onRequest: guard('clients', 'write'),
      schema: {
        tags,
        summary: 'Rotate the client secret: a new one is generated and shown once; the old one stops working',
        params: CLIENT_ID_PARAMS,
        headers: IF_MATCH_HEADERS,
        response: {
          200: {
            description: 'The new secret',
            type: 'object',
            required: ['client_id', 'client_secret'],
            properties: { client_id: { type: 'string' }, client_secret: { type: 'string' } },
          },
          ...PROBLEM_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const ifMatch = ifMatchOf(request);
      const { client, clientSecret } = await rotateClientSecret(
        request.params.client_id,
        deps,
        context.settings,
        originOf(request),
        // If-Match is optional here: a rotation overwrites nothing the caller read.
        ifMatch !== undefined ? matches(ifMatch) : () => {},
      );
      return reply
        .header('cache-control', 'no-store')
        .send({ client_id: client.clientId, client_secret: clientSecret });
    },
  );
}
