/**
 * The admin API's contract: every route the plugin registers is in the OpenAPI 3.1 document it
 * serves (generated from the route schemas), each with its security requirement and problem
 * responses; and the two ways of serving it (admin.enabled, admin.listen).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { ADMIN_API_PATH, adminAudience } from '../../src/core/admin/admin-access.js';
import { adminApiPlugin } from '../../src/http/routes/admin/admin-api.js';
import { postToken } from '../helpers/code-flow.js';
import { AdminApi, AUTOMATION, clientToken, startAdminServer } from './admin-harness.js';

describe('admin API contract', () => {
  it('OpenAPI 3.1: every registered admin route is documented, with security and problem responses', async () => {
    const server = await startAdminServer('sqlite::memory:');
    const app = Fastify();
    try {
      const registered: string[] = [];
      app.addHook('onRoute', (route) => {
        const methods = Array.isArray(route.method) ? route.method : [route.method];
        for (const method of methods) if (method !== 'HEAD') registered.push(`${method} ${route.url}`);
      });
      await app.register(adminApiPlugin(server.context), { prefix: ADMIN_API_PATH });
      await app.ready();
      const served = await app.inject({ method: 'GET', url: `${ADMIN_API_PATH}/openapi.json` });
      assert.equal(served.statusCode, 200);
      const document = served.json() as {
        openapi: string;
        security: unknown[];
        paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      };
      assert.equal(document.openapi, '3.1.0');
      assert.deepEqual(document.security, [{ gatehouse: [] }]);
      const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
      );
      const routes = registered.filter((route) => route !== `GET ${ADMIN_API_PATH}/openapi.json`);
      assert.ok(routes.length >= 30);
      assert.deepEqual([...routes].sort(), [...documented].sort());
      for (const [path, operations] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          for (const status of ['401', '403', '400', '500'])
            assert.ok(operation.responses[status], `${method} ${path} documents ${status}`);
        }
      }
    } finally {
      await app.close();
      await server.close();
    }
  });

  it('admin.enabled false: no admin API and no admin resource to get tokens for', async () => {
    const server = await startAdminServer('sqlite::memory:', {
      settings: { admin: { enabled: false } },
    });
    try {
      const response = await fetch(`${server.url}${ADMIN_API_PATH}/openapi.json`);
      assert.equal(response.status, 404);
      const refused = await postToken(
        server,
        { grant_type: 'client_credentials', resource: adminAudience(server.context.settings.issuer) },
        { basic: { id: AUTOMATION.client_id, secret: AUTOMATION.client_secret! } },
      );
      assert.equal(refused.status, 400);
      assert.equal(refused.body['error'], 'invalid_target');
    } finally {
      await server.close();
    }
  });

  it('admin.listen: the admin API is served on its own listener only', async () => {
    const server = await startAdminServer('sqlite::memory:', {
      settings: { admin: { enabled: true, listen: '127.0.0.1:0' } },
    });
    try {
      assert.ok(server.admin, 'an admin listener');
      assert.equal((await fetch(`${server.url}${ADMIN_API_PATH}/openapi.json`)).status, 404);
      const api = new AdminApi(server.admin.url);
      const token = await clientToken(server);
      const listed = await api.call('GET', '/clients', { token });
      assert.equal(listed.status, 200);
      assert.equal((await fetch(`${server.admin.url}/token`, { method: 'POST' })).status, 404);
    } finally {
      await server.close();
    }
  });
});
