/**
 * The console's clients and users pages (src/ui/console-pages.ts). Reads and changes go through
 * the admin API's core functions (src/core/admin/client-administration.ts,
 * user-administration.ts) with the signed-in administrator as the actor; the listings use the
 * admin API's cursor pagination (src/core/admin/admin-listing.ts).
 */
import type { FastifyInstance } from 'fastify';
import { paginate, sortedBy } from '../../../core/admin/admin-listing.js';
import {
  deleteClient,
  existingClient,
  prepareClient,
  rotateClientSecret,
  storeNewClient,
  updateClient,
} from '../../../core/admin/client-administration.js';
import { createUser, setUserPassword, updateUser } from '../../../core/admin/user-administration.js';
import { clientToMetadata } from '../../../core/registration/client-registration.js';
import type { Client, User } from '../../../store/store.js';
import {
  renderClientForm,
  renderClientList,
  renderClientSecret,
  renderConfirmDelete,
  renderUserDetail,
  renderUserList,
  renderUserNew,
  type ClientFormValues,
  type ClientRow,
  type UserRow,
} from '../../../ui/console-pages.js';
import { HTML_ROUTE, attempt, wordsOf, type ConsoleCall, type ConsoleRoutes } from './console-context.js';

const PAGE_SIZE = 25;

/** The grant types the client form offers as checkboxes (src/ui/console-pages.ts). */
const GRANT_CHOICES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;

function clientRow(client: Client): ClientRow {
  return clientToMetadata(client) as ClientRow;
}

function formValuesOf(client: Client): ClientFormValues {
  const view = clientRow(client);
  return {
    client_id: view.client_id,
    client_name: view.client_name ?? '',
    client_type: view.client_type,
    redirect_uris: view.redirect_uris.join('\n'),
    grant_types: view.grant_types,
    scope: view.scope,
  };
}

/** The client form as entered. */
function postedClient(call: ConsoleCall, clientId: string): ClientFormValues {
  const form = call.form;
  return {
    client_id: clientId,
    client_name: form.get('client_name')?.trim() ?? '',
    client_type: form.get('client_type') === 'public' ? 'public' : 'confidential',
    redirect_uris: form.get('redirect_uris') ?? '',
    grant_types: GRANT_CHOICES.filter((grant) => form.get(`grant_${grant}`) === '1'),
    scope: form.get('scope')?.trim() ?? '',
  };
}

/** RFC 7591 §2 metadata of the form's values (a client with the code grant gets the `code` response type). */
function metadataOf(values: ClientFormValues): Record<string, unknown> {
  return {
    ...(values.client_name !== '' ? { client_name: values.client_name } : {}),
    redirect_uris: wordsOf(values.redirect_uris),
    grant_types: values.grant_types,
    response_types: values.grant_types.includes('authorization_code') ? ['code'] : [],
    scope: values.scope,
  };
}

function userRow(user: User): UserRow {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    email: user.email,
    admin: user.admin === true,
    disabled: user.disabledAt !== undefined,
    createdAt: user.createdAt,
  };
}

export function registerConsoleClientRoutes(app: FastifyInstance, routes: ConsoleRoutes): void {
  const { context } = routes;
  const deps = { store: context.store, events: context.events, now: () => context.now() };
  const clientsPath = () => `${routes.base()}/clients`;
  const usersPath = () => `${routes.base()}/users`;
  const clientPath = (id: string) => `${clientsPath()}/${encodeURIComponent(id)}`;
  const userPath = (id: string) => `${usersPath()}/${encodeURIComponent(id)}`;
  const path = (suffix: string) => `/console${suffix}`;

  app.get(path('/clients'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'clients', 'clients', 'read');
    if (!call) return reply;
    const q = call.query.get('q')?.trim() ?? '';
    const needle = q.toLowerCase();
    const clients = sortedBy(
      (await context.store.clients.list())
        .filter((client) => !client.metadataDocument)
        .map(clientRow)
        .filter(
          (client) =>
            needle === '' ||
            client.client_id.toLowerCase().includes(needle) ||
            (client.client_name ?? '').toLowerCase().includes(needle),
        ),
      (client) => client.client_id,
    );
    const page = paginate(clients, (client) => client.client_id, {
      limit: PAGE_SIZE,
      cursor: call.query.get('cursor'),
    });
    return routes.send(
      reply,
      renderClientList(call.frame, { items: page.items, q, nextCursor: page.next_cursor, done: routes.notice(call) }),
    );
  });

  app.get(path('/clients/new'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'clients', 'clients', 'write');
    if (!call) return reply;
    const values: ClientFormValues = {
      client_id: '',
      client_name: '',
      client_type: 'confidential',
      redirect_uris: '',
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid',
    };
    return routes.send(reply, renderClientForm(call.frame, { values, isNew: true }));
  });

  app.post(path('/clients'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'clients', 'clients', 'write');
    if (!call) return reply;
    const clientId = call.form.get('client_id')?.trim() ?? '';
    const values = postedClient(call, clientId);
    const metadata = {
      ...metadataOf(values),
      ...(clientId !== '' ? { client_id: clientId } : {}),
      token_endpoint_auth_method: values.client_type === 'public' ? 'none' : 'client_secret_basic',
    };
    const result = await attempt(async () => {
      const prepared = await prepareClient(metadata, context.settings, context.now());
      await storeNewClient(prepared.client, deps, call.origin);
      return prepared;
    });
    if ('refused' in result)
      return routes.send(reply, renderClientForm(call.frame, { values, isNew: true, problem: result.refused }), 400);
    const { client, clientSecret } = result.ok;
    if (clientSecret === null) return routes.redirect(reply, clientPath(client.clientId), 'created');
    // RFC 7591 §3.2.1: the secret is shown once; Gatehouse keeps only its hash.
    reply.header('cache-control', 'no-store');
    return routes.send(
      reply,
      renderClientSecret(call.frame, { clientId: client.clientId, secret: clientSecret, created: true }),
      201,
    );
  });

  app.get<{ Params: { id: string } }>(path('/clients/:id'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'clients', 'clients', 'read');
    if (!call) return reply;
    const client = await context.store.clients.get(request.params.id);
    if (!client) return routes.notFound(reply, call);
    return routes.send(
      reply,
      renderClientForm(call.frame, { values: formValuesOf(client), isNew: false, done: routes.notice(call) }),
    );
  });

  app.post<{ Params: { id: string } }>(path('/clients/:id'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'clients', 'clients', 'write');
    if (!call) return reply;
    const existing = await context.store.clients.get(request.params.id);
    if (!existing) return routes.notFound(reply, call);
    const posted = postedClient(call, existing.clientId);
    // Grant types the form does not offer (device code, token exchange, ...) are kept, not dropped.
    const kept = existing.grantTypes.filter((grant) => !(GRANT_CHOICES as readonly string[]).includes(grant));
    const values = {
      ...posted,
      grant_types: [...posted.grant_types, ...kept],
      client_type: clientRow(existing).client_type,
    };
    const result = await attempt(() =>
      updateClient(existing.clientId, metadataOf(values), deps, context.settings, call.origin),
    );
    if ('refused' in result)
      return routes.send(reply, renderClientForm(call.frame, { values, isNew: false, problem: result.refused }), 400);
    return routes.redirect(reply, clientPath(existing.clientId), 'saved');
  });

  app.post<{ Params: { id: string } }>(path('/clients/:id/secret'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'clients', 'clients', 'write');
    if (!call) return reply;
    const existing = await context.store.clients.get(request.params.id);
    if (!existing) return routes.notFound(reply, call);
    const result = await attempt(() => rotateClientSecret(existing.clientId, deps, context.settings, call.origin));
    if ('refused' in result)
      return routes.send(
        reply,
        renderClientForm(call.frame, { values: formValuesOf(existing), isNew: false, problem: result.refused }),
        409,
      );
    reply.header('cache-control', 'no-store');
    return routes.send(
      reply,
      renderClientSecret(call.frame, { clientId: existing.clientId, secret: result.ok.clientSecret, created: false }),
    );
  });

  app.get<{ Params: { id: string } }>(path('/clients/:id/delete'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'clients', 'clients', 'write');
    if (!call) return reply;
    const client = await existingClient(context.store, request.params.id).catch(() => undefined);
    if (!client) return routes.notFound(reply, call);
    const self = clientPath(client.clientId);
    return routes.send(
      reply,
      renderConfirmDelete(call.frame, {
        what: client.clientName ?? client.clientId,
        action: `${self}/delete`,
        back: self,
      }),
    );
  });

  app.post<{ Params: { id: string } }>(path('/clients/:id/delete'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'clients', 'clients', 'write');
    if (!call) return reply;
    const client = await context.store.clients.get(request.params.id);
    if (!client) return routes.notFound(reply, call);
    const self = clientPath(client.clientId);
    const result = await attempt(() => deleteClient(client.clientId, { force: false }, deps, call.origin));
    if ('refused' in result)
      return routes.send(
        reply,
        renderConfirmDelete(call.frame, {
          what: client.clientName ?? client.clientId,
          action: `${self}/delete`,
          back: self,
          problem: result.refused,
        }),
        409,
      );
    return routes.redirect(reply, clientsPath(), 'deleted');
  });

  app.get(path('/users'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'users', 'users', 'read');
    if (!call) return reply;
    const q = call.query.get('q')?.trim() ?? '';
    const needle = q.toLowerCase();
    const users = sortedBy(
      (await context.store.users.list())
        .map(userRow)
        .filter(
          (user) =>
            needle === '' ||
            user.username.toLowerCase().includes(needle) ||
            (user.name ?? '').toLowerCase().includes(needle) ||
            (user.email ?? '').toLowerCase().includes(needle),
        ),
      (user) => user.username,
    );
    const page = paginate(users, (user) => user.username, { limit: PAGE_SIZE, cursor: call.query.get('cursor') });
    return routes.send(
      reply,
      renderUserList(call.frame, { items: page.items, q, nextCursor: page.next_cursor, done: routes.notice(call) }),
    );
  });

  app.get(path('/users/new'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'users', 'users', 'write');
    if (!call) return reply;
    return routes.send(
      reply,
      renderUserNew(call.frame, { values: { username: '', name: '', email: '', admin: false } }),
    );
  });

  app.post(path('/users'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'users', 'users', 'write');
    if (!call) return reply;
    const form = call.form;
    const values = {
      username: form.get('username')?.trim() ?? '',
      name: form.get('name')?.trim() ?? '',
      email: form.get('email')?.trim() ?? '',
      admin: form.get('admin') === '1',
    };
    const result = await attempt(() =>
      createUser(
        {
          username: values.username,
          password: form.get('password') ?? '',
          ...(values.name !== '' ? { name: values.name } : {}),
          ...(values.email !== '' ? { email: values.email } : {}),
          admin: values.admin,
        },
        deps,
        call.origin,
      ),
    );
    if ('refused' in result)
      return routes.send(reply, renderUserNew(call.frame, { values, problem: result.refused }), 400);
    return routes.redirect(reply, userPath(result.ok.id), 'created');
  });

  const showUser = async (call: ConsoleCall, user: User, problem?: string) =>
    renderUserDetail(call.frame, {
      user: userRow(user),
      self: user.id === call.actor.userId,
      problem,
      done: routes.notice(call),
    });

  app.get<{ Params: { id: string } }>(path('/users/:id'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'users', 'users', 'read');
    if (!call) return reply;
    const user = await context.store.users.getById(request.params.id);
    if (!user) return routes.notFound(reply, call);
    return routes.send(reply, await showUser(call, user));
  });

  // Disabling keeps the user's sessions and tokens (revoke them on the sessions page).
  for (const change of ['disabled', 'admin'] as const) {
    app.post<{ Params: { id: string } }>(path(`/users/:id/${change}`), HTML_ROUTE, async (request, reply) => {
      const call = await routes.open(request, reply, 'users', 'users', 'write');
      if (!call) return reply;
      const user = await context.store.users.getById(request.params.id);
      if (!user) return routes.notFound(reply, call);
      const value = call.form.get(change) === '1';
      // Neither disabling oneself nor dropping one's own admin role: the console would lock its user out.
      if (user.id === call.actor.userId && (change === 'admin' ? !value : value))
        return routes.redirect(reply, userPath(user.id));
      const result = await attempt(() => updateUser(user, { [change]: value }, deps, call.origin));
      if ('refused' in result) return routes.send(reply, await showUser(call, user, result.refused), 400);
      return routes.redirect(reply, userPath(user.id), 'saved');
    });
  }

  app.post<{ Params: { id: string } }>(path('/users/:id/password'), HTML_ROUTE, async (request, reply) => {
    const call = await routes.open(request, reply, 'users', 'users', 'write');
    if (!call) return reply;
    const user = await context.store.users.getById(request.params.id);
    if (!user) return routes.notFound(reply, call);
    const result = await attempt(() => setUserPassword(user, call.form.get('password') ?? '', deps, call.origin));
    if ('refused' in result) return routes.send(reply, await showUser(call, user, result.refused), 400);
    return routes.redirect(reply, userPath(user.id), 'password');
  });
}
