/**
 * The admin API under an issuer path: Gatehouse embedded under `/auth` of a Fastify app serves it
 * at `/auth/admin/v1`, for tokens whose audience is `<issuer>/admin/v1`, and documents those paths.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import Fastify from 'fastify';
import { createGatehouse } from '../../src/embed.js';
import { postForm } from '../helpers/code-flow.js';
import { TEST_SECRET } from '../helpers/server.js';
import { AdminApi, AUTOMATION } from './admin-harness.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

it('RFC 8707: embedded under /auth, the admin API is at /auth/admin/v1 for tokens of <issuer>/admin/v1', async () => {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}/auth`;
  const gatehouse = await createGatehouse({
    config: { issuer, database: 'sqlite::memory:', clients: [AUTOMATION] },
    secret: TEST_SECRET,
  });
  const app = Fastify();
  try {
    await gatehouse.mount(app);
    await app.listen({ port, host: '127.0.0.1' });
    const origin = `http://127.0.0.1:${port}`;
    const issued = await postForm(
      { url: origin },
      '/auth/token',
      { grant_type: 'client_credentials', scope: 'gatehouse:admin', resource: `${issuer}/admin/v1` },
      { basic: { id: AUTOMATION.client_id, secret: AUTOMATION.client_secret! } },
    );
    assert.equal(issued.status, 200, issued.text);
    const api = new AdminApi(origin, '/auth/admin/v1');
    const document = await api.openApi();
    assert.ok(document.paths['/auth/admin/v1/clients'], 'the document names the mounted paths');
    const listed = await api.call('GET', '/clients', { token: issued.body['access_token'] as string });
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.items.map((client: { client_id: string }) => client.client_id),
      [AUTOMATION.client_id],
    );
    const metadata = await fetch(`${origin}/.well-known/oauth-protected-resource/auth/admin/v1`);
    assert.equal(((await metadata.json()) as { resource: string }).resource, `${issuer}/admin/v1`);
  } finally {
    await app.close();
    await gatehouse.close();
  }
});
