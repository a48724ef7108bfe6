/**
 * Admin API: users. Created (the password in the body, never in a URL), updated (profile,
 * disabled, admin role; If-Match required), their password reset, deleted, and their sign-in
 * sessions listed. The logic is src/core/admin/user-administration.ts, shared with the CLI.
 */
import type { FastifyInstance } from 'fastify';
import type { ProviderContext } from '../../../core/context.js';
import { checkIfMatch, paginate, sortedBy } from '../../../core/admin/admin-listing.js';
import {
  createUser,
  deleteUser,
  existingUser,
  setUserPassword,
  updateUser,
  type NewUser,
  type UserChanges,
} from '../../../core/admin/user-administration.js';
import type { User } from '../../../store/store.js';
import { originOf, type AdminGuard } from './admin-guard.js';
import { SESSION, sessionView } from './admin-session-routes.js';
import {
  IF_MATCH_HEADERS,
  NULLABLE_TIME,
  PAGE_QUERY,
  PROBLEM_RESPONSES,
  TIME,
  ifMatchOf,
  isoTime,
  page,
  sendTagged,
} from './admin-schemas.js';

const USER = {
  type: 'object',
  required: ['id', 'username', 'email', 'name', 'claims', 'created_at', 'disabled', 'disabled_at', 'admin'],
  properties: {
    id: { type: 'string' },
    username: { type: 'string' },
    email: { type: ['string', 'null'] },
    name: { type: ['string', 'null'] },
    claims: { type: 'object', additionalProperties: true, description: 'OpenID Connect Core §5.1 claims' },
    created_at: TIME,
    disabled: { type: 'boolean', description: 'a disabled user cannot sign in' },
    disabled_at: NULLABLE_TIME,
    admin: { type: 'boolean', description: 'holds the admin role (may use the admin API with a user token)' },
  },
} as const;

export function userView(user: User) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    name: user.name,
    claims: user.claims,
    created_at: isoTime(user.createdAt)!,
    disabled: user.disabledAt !== undefined,
    disabled_at: isoTime(user.disabledAt),
    admin: user.admin === true,
  };
}

const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;
const PASSWORD = { type: 'string', description: 'at least 8 characters (NIST SP 800-63B §3.1.1.2)' } as const;

export function registerAdminUserRoutes(app: FastifyInstance, context: ProviderContext, guard: AdminGuard): void {
  const deps = { store: context.store, events: context.events, now: () => context.now() };
  const tags = ['users'];

  app.get<{ Querystring: { limit?: number; cursor?: string; username?: string; disabled?: boolean; admin?: boolean } }>(
    '/users',
    {
      onRequest: guard('users', 'read'),
      schema: {
        tags,
        summary: 'List users (by username)',
        querystring: {
          type: 'object',
          properties: {
            ...PAGE_QUERY,
            username: { type: 'string', description: 'only usernames that start with this' },
            disabled: { type: 'boolean' },
            admin: { type: 'boolean' },
          },
        },
        response: { 200: page(USER, 'A page of users'), ...PROBLEM_RESPONSES },
      },
    },
    async (request) => {
      const { username, disabled, admin } = request.query;
      const users = (await context.store.users.list())
        .map(userView)
        .filter(
          (user) =>
            (username === undefined || user.username.startsWith(username)) &&
            (disabled === undefined || user.disabled === disabled) &&
            (admin === undefined || user.admin === admin),
        )
        .sort((a, b) => (a.username < b.username ? -1 : 1));
      return paginate(users, (user) => user.username, request.query);
    },
  );

  app.post<{ Body: NewUser }>(
    '/users',
    {
      onRequest: guard('users', 'write'),
      schema: {
        tags,
        summary: 'Create a user',
        body: {
          type: 'object',
          required: ['username', 'password'],
          properties: {
            username: { type: 'string' },
            password: PASSWORD,
            email: { type: 'string' },
            name: { type: 'string' },
            given_name: { type: 'string' },
            family_name: { type: 'string' },
            phone_number: { type: 'string' },
            email_verified: { type: 'boolean' },
            admin: { type: 'boolean' },
          },
        },
        response: { 201: { description: 'The user', ...USER }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) => {
      const user = await createUser(request.body, deps, originOf(request));
      reply.header('location', `${request.url.replace(/\/$/, '')}/${user.id}`);
      return sendTagged(reply, userView(user), 201);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/users/:id',
    {
      onRequest: guard('users', 'read'),
      schema: {
        tags,
        summary: 'Show a user (with its ETag)',
        params: ID_PARAMS,
        response: { 200: { description: 'The user', ...USER }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) => sendTagged(reply, userView(await existingUser(context.store, request.params.id))),
  );

  app.patch<{ Params: { id: string }; Body: UserChanges }>(
    '/users/:id',
    {
      onRequest: guard('users', 'write'),
      schema: {
        tags,
        summary:
          'Change a user: name, email (a new one is not verified), disabled (cannot sign in; nothing is revoked), admin; If-Match required',
        params: ID_PARAMS,
        headers: IF_MATCH_HEADERS,
        body: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            email: { type: 'string' },
            disabled: { type: 'boolean' },
            admin: { type: 'boolean' },
          },
        },
        response: { 200: { description: 'The updated user', ...USER }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) => {
      const user = await existingUser(context.store, request.params.id);
      checkIfMatch(ifMatchOf(request), userView(user));
      return sendTagged(reply, userView(await updateUser(user, request.body, deps, originOf(request))));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/users/:id',
    {
      onRequest: guard('users', 'write'),
      schema: {
        tags,
        summary: 'Delete a user with their sessions, consents and grants; If-Match required',
        params: ID_PARAMS,
        headers: IF_MATCH_HEADERS,
        response: { 204: { description: 'Deleted', type: 'null' }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) => {
      const user = await existingUser(context.store, request.params.id);
      checkIfMatch(ifMatchOf(request), userView(user));
      await deleteUser(user, deps, originOf(request));
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string }; Body: { password: string } }>(
    '/users/:id/password',
    {
      onRequest: guard('users', 'write'),
      schema: {
        tags,
        summary: "Reset a user's password (their sessions and tokens stay valid: revoke them separately)",
        params: ID_PARAMS,
        body: { type: 'object', required: ['password'], properties: { password: PASSWORD } },
        response: { 204: { description: 'Password replaced', type: 'null' }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) => {
      const user = await existingUser(context.store, request.params.id);
      await setUserPassword(user, request.body.password, deps, originOf(request));
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number; cursor?: string } }>(
    '/users/:id/sessions',
    {
      onRequest: guard('sessions', 'read'),
      schema: {
        tags,
        summary: "List a user's live sign-in sessions",
        params: ID_PARAMS,
        querystring: { type: 'object', properties: { ...PAGE_QUERY } },
        response: { 200: page(SESSION, 'A page of sessions'), ...PROBLEM_RESPONSES },
      },
    },
    async (request) => {
      const user = await existingUser(context.store, request.params.id);
      const sessions = await context.store.sessions.list({ userId: user.id }, context.now());
      return paginate(
        sortedBy(sessions.map(sessionView), (session) => session.sid),
        (session) => session.sid,
        request.query,
      );
    },
  );
}
