/**
 * For tests of Gatehouse as installed elsewhere (from the npm tarball, in the container image):
 * the config file such an installation starts with, and a code flow run against it over HTTP
 * from outside, as a client and a browser would.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { s256Challenge } from '../../src/core/pkce.js';
import { newVerifier } from './code-flow.js';
import { ALICE } from './server.js';
import { UserAgent } from './user-agent.js';

export const INSTALLED_RESOURCE = 'http://127.0.0.1:9902/notes';
export const INSTALLED_CLIENT = { client_id: 'installed-spa', redirect_uri: 'http://127.0.0.1:9900/callback' };

/** A YAML config: the issuer, one resource, one public client, the user ALICE. */
export function installedConfigYaml(issuer: string, database = 'sqlite:./gatehouse.db'): string {
  return [
    `issuer: ${issuer}`,
    `database: ${database}`,
    'resources:',
    `  - {resource: "${INSTALLED_RESOURCE}", name: Notes, scopes: ["notes:read"]}`,
    'clients:',
    `  - {client_id: ${INSTALLED_CLIENT.client_id}, redirect_uris: ["${INSTALLED_CLIENT.redirect_uri}"], token_endpoint_auth_method: none, scope: "openid notes:read"}`,
    'users:',
    `  - {username: ${ALICE.username}, password: "${ALICE.password}"}`,
    '',
  ].join('\n');
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * RFC 6749 §4.1 with RFC 7636 PKCE and an RFC 8707 resource indicator: signs ALICE in, consents,
 * redeems the code; returns the token response (asserted 200 with an ID token).
 */
export async function codeFlowAgainst(issuer: string): Promise<Record<string, string>> {
  const ua = new UserAgent(issuer);
  const verifier = newVerifier();
  const authorize = new URL('/authorize', issuer);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: INSTALLED_CLIENT.client_id,
    redirect_uri: INSTALLED_CLIENT.redirect_uri,
    scope: 'openid notes:read',
    state: 'installed',
    resource: INSTALLED_RESOURCE,
    code_challenge: s256Challenge(verifier),
    code_challenge_method: 'S256',
  })) {
    authorize.searchParams.set(name, value);
  }
  const final = await ua.authorize(authorize.href, ALICE);
  assert.equal(final.status, 303, final.body.slice(0, 300));
  const code = new URL(final.location!).searchParams.get('code');
  assert.ok(code, `no code in ${final.location}`);
  const response = await fetch(new URL('/token', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: INSTALLED_CLIENT.redirect_uri,
      client_id: INSTALLED_CLIENT.client_id,
      code_verifier: verifier,
      resource: INSTALLED_RESOURCE,
    }),
  });
  const tokens = (await response.json()) as Record<string, string>;
  assert.equal(response.status, 200, JSON.stringify(tokens));
  assert.equal(typeof tokens['id_token'], 'string');
  assert.equal(typeof tokens['access_token'], 'string');
  return tokens;
}
