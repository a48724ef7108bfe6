/**
 * The RFC 9728 protected resource metadata route in one call, for a resource with a path (an MCP
 * server at `/mcp`): `registerProtectedResourceMetadata` (Fastify) and `serveProtectedResourceMetadata`
 * (Express or plain `node:http`) both serve it at `/.well-known/oauth-protected-resource/mcp`
 * (RFC 9728 §3.1), the URL the 401 challenge advertises (RFC 9728 §5.1).
 *
 * Run: node scripts/run-tests.mjs test/resource/metadata-route
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import {
  createVerifier,
  protectExpress,
  registerProtectedResourceMetadata,
  serveProtectedResourceMetadata,
} from '../../src/resource/resource.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const METADATA_PATH = '/.well-known/oauth-protected-resource/mcp';
const verifier = createVerifier({
  issuer: 'https://as.example.com',
  audience: RESOURCE,
  scopesSupported: ['mcp:tools'],
  resourceName: 'Example MCP server',
});

/** RFC 9728 §3.2: 200, JSON, the resource and its authorization server; public, so readable cross-origin. */
async function assertMetadata(response: Response): Promise<void> {
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(response.headers.get('access-control-allow-origin'), '*');
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(body['resource'], RESOURCE);
  assert.deepEqual(body['authorization_servers'], ['https://as.example.com']);
  assert.deepEqual(body['scopes_supported'], ['mcp:tools']);
}

describe('RFC 9728 §3.1: the metadata of a resource with a path, in one call', () => {
  it('RFC 9728 §5.1: the verifier advertises the path-suffixed metadata URL', () => {
    assert.equal(verifier.resourceMetadataUrl, `https://mcp.example.com${METADATA_PATH}`);
  });

  it('RFC 9728 §3.1: Fastify, registerProtectedResourceMetadata(app, verifier)', async () => {
    const app = Fastify();
    registerProtectedResourceMetadata(app, verifier);
    const response = await app.inject({ method: 'GET', url: METADATA_PATH });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['access-control-allow-origin'], '*');
    assert.equal(response.json().resource, RESOURCE);
    await app.close();
  });

  describe('node:http and Express: serveProtectedResourceMetadata(verifier)', () => {
    let server: Server;
    let base: string;
    before(async () => {
      const metadata = serveProtectedResourceMetadata(verifier);
      const requireToken = protectExpress(verifier, ['mcp:tools']);
      server = createServer((req, res) => {
        metadata(req, res, () => requireToken(req, res, () => res.end('protected')));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('RFC 9728 §3.1: GET at the path-suffixed well-known URL is the metadata', async () => {
      await assertMetadata(await fetch(`${base}${METADATA_PATH}`));
      await assertMetadata(await fetch(`${base}${METADATA_PATH}?x=1`));
    });

    it('every other request goes on to the next handler (here: the token check, RFC 6750 §3 401 with resource_metadata)', async () => {
      for (const [method, path] of [
        ['GET', '/mcp'],
        ['POST', METADATA_PATH],
        ['GET', '/.well-known/oauth-protected-resource'],
      ] as const) {
        const response = await fetch(`${base}${path}`, { method });
        assert.equal(response.status, 401, `${method} ${path}`);
        assert.equal(
          response.headers.get('www-authenticate'),
          `Bearer realm="${RESOURCE}", resource_metadata="https://mcp.example.com${METADATA_PATH}"`,
        );
      }
    });
  });
});
