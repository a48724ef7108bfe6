/**
 * docs/guides/mcp.md, run: Gatehouse with examples/guides/mcp/gatehouse.yaml and the example MCP
 * server (examples/mcp-server/server.ts) at the resource the file registers. An unauthenticated
 * MCP request gets the RFC 9728 challenge, discovery offers the three ways a client can be known
 * (a pre-registered client, Client ID Metadata Documents, RFC 7591 registration), and the
 * pre-registered client's token for the resource (RFC 8707) calls the `whoami` tool. The MCP SDK's
 * own OAuth client runs all three ways in test/mcp/mcp-end-to-end.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startMcpServer, type RunningMcpServer } from '../../examples/mcp-server/server.js';
import type { RunningGatehouse } from '../../src/server.js';
import { startGuideServer } from '../helpers/guides.js';
import { freePort } from '../helpers/installed-server.js';
import { ALICE } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';

const RESOURCE = 'http://localhost:3001/mcp';

let gatehouse: RunningGatehouse;
let mcp: RunningMcpServer;
let mcpEndpoint: string;
before(async () => {
  gatehouse = await startGuideServer('examples/guides/mcp/gatehouse.yaml');
  // Listening on a free port, but named by the resource identifier the config file registers.
  const port = await freePort();
  mcp = await startMcpServer({ issuer: gatehouse.url, port, origin: 'http://localhost:3001' });
  assert.equal(mcp.url, RESOURCE);
  mcpEndpoint = `http://127.0.0.1:${port}/mcp`;
});
after(async () => {
  await mcp?.close();
  await gatehouse?.close();
});

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'guide-test', version: '1.0.0' } },
};

function mcpPost(body: unknown, token?: string) {
  return fetch(mcpEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
}

describe('docs/guides/mcp.md', () => {
  test('RFC 9728 §5.1: without a token the MCP server answers 401 with its resource metadata, which names Gatehouse', async () => {
    const answer = await mcpPost(initialize);
    assert.equal(answer.status, 401);
    const challenge = answer.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /resource_metadata="http:\/\/localhost:3001\/\.well-known\/oauth-protected-resource\/mcp"/);
    const metadata = (await (
      await fetch(mcpEndpoint.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'))
    ).json()) as { resource: string; authorization_servers: string[] };
    assert.equal(metadata.resource, RESOURCE);
    assert.deepEqual(metadata.authorization_servers, [gatehouse.url]);
  });

  test('RFC 8414: discovery offers Client ID Metadata Documents and the registration endpoint (RFC 7591)', async () => {
    const metadata = (await (await fetch(`${gatehouse.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(metadata['client_id_metadata_document_supported'], true);
    assert.equal(metadata['registration_endpoint'], `${gatehouse.url}/register`);
  });

  test('RFC 8707: the pre-registered client gets a token for the MCP server and calls it', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const authorize = new URL(`${gatehouse.url}/authorize`);
    for (const [name, value] of Object.entries({
      response_type: 'code',
      client_id: 'mcp-client',
      redirect_uri: 'http://localhost:6274/oauth/callback',
      scope: 'mcp:tools',
      resource: RESOURCE,
      state: 'mcp-state',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }))
      authorize.searchParams.set(name, value);
    const back = new URL((await new UserAgent(gatehouse.url).authorize(authorize.href, ALICE)).location!);
    const code = back.searchParams.get('code');
    assert.ok(code, back.href);
    const tokens = (await (
      await fetch(`${gatehouse.url}/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: 'http://localhost:6274/oauth/callback',
          client_id: 'mcp-client',
          code_verifier: verifier,
          resource: RESOURCE,
        }),
      })
    ).json()) as { access_token: string; refresh_token?: string };
    assert.ok(tokens.refresh_token, 'the refresh_token grant gives the MCP client a refresh token');
    const answer = await mcpPost(initialize, tokens.access_token);
    assert.equal(answer.status, 200, await answer.clone().text());
  });
});
