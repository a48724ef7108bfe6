/**
 * Gatehouse embedded in an app (src/embed.ts; docs/embedding.md): mounted
 * under `/auth` of a Fastify app and of an Express app, each with a route of its own that keeps
 * answering; a relying-party library (openid-client) discovers the path-aware issuer and completes
 * the code flow; with a custom user directory, a user that is not in Gatehouse's store signs in.
 * On SQLite and PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Fastify from 'fastify';
import * as client from 'openid-client';
import { createGatehouse, type ExternalUser, type Gatehouse } from '../../src/index.js';
import { ConfigError } from '../../src/config/load-config.js';
import { ALICE, CONFIDENTIAL_CLIENT, STORE_TARGETS, TEST_SECRET, onStoreTarget } from '../helpers/server.js';
import { freePort } from '../helpers/installed-server.js';
import { discoverAs } from '../helpers/interop-client.js';
import { UserAgent } from '../helpers/user-agent.js';

/** Express 5 (a dependency of @modelcontextprotocol/sdk, without types here): the part these tests use. */
interface ExpressApp {
  (req: IncomingMessage, res: ServerResponse): void;
  get(path: string, handler: (req: unknown, res: { json(body: unknown): void }) => void): void;
  use(handler: unknown): void;
  use(path: string, handler: unknown): void;
}
async function loadExpress(): Promise<() => ExpressApp> {
  const name = 'express';
  return ((await import(name)) as { default: () => ExpressApp }).default;
}

/** The config object of the embedded Gatehouse: issuer under `/auth` of the app at `port`. */
function embedConfig(port: number, database: string, users: unknown[] = [ALICE]) {
  return {
    issuer: `http://127.0.0.1:${port}/auth`,
    database,
    clients: [CONFIDENTIAL_CLIENT],
    users,
  };
}

/** openid-client discovers the issuer, runs the code flow through the pages and redeems the code. */
async function codeFlow(issuer: string, user: { username: string; password: string }) {
  const config = await discoverAs({ url: issuer }, CONFIDENTIAL_CLIENT);
  assert.equal(config.serverMetadata().issuer, issuer);
  assert.equal(config.serverMetadata().token_endpoint, `${issuer}/token`);
  const redirectUri = CONFIDENTIAL_CLIENT.redirect_uris[0]!;
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'embed-state',
  });
  const ua = new UserAgent(new URL(issuer).origin);
  const final = await ua.authorize(url.href, user);
  assert.equal(final.status, 303, final.body.slice(0, 300));
  const tokens = await client.authorizationCodeGrant(config, new URL(final.location!), {
    pkceCodeVerifier: verifier,
    expectedState: 'embed-state',
  });
  assert.equal(tokens.claims()!.iss, issuer);
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
  return { tokens, userinfo };
}

/** RFC 8414 §3.1: the metadata of the path-aware issuer, at the root of the app. */
async function assertPathAwareMetadata(origin: string, issuer: string): Promise<void> {
  const response = await fetch(`${origin}/.well-known/oauth-authorization-server/auth`);
  assert.equal(response.status, 200);
  const metadata = (await response.json()) as { issuer: string; authorization_endpoint: string };
  assert.equal(metadata.issuer, issuer);
  assert.equal(metadata.authorization_endpoint, `${issuer}/authorize`);
}

async function listen(server: Server, port: number): Promise<void> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

/** Closes the app's server, and the keep-alive connections fetch left open. */
const closeServer = (server: Server | undefined) =>
  new Promise<void>((resolve) => {
    if (!server) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });

for (const target of STORE_TARGETS) {
  describe(`Gatehouse embedded in an app on ${target.name}`, () => {
    let gatehouse: Gatehouse | undefined;
    let server: Server | undefined;
    const teardown = async () => {
      await closeServer(server);
      await gatehouse?.close();
      gatehouse = undefined;
      server = undefined;
    };

    it(
      'RFC 8414 §3.1: mounted under /auth of a Fastify app, a client completes the code flow and the app route still answers',
      onStoreTarget(
        target,
        async (database) => {
          const port = await freePort();
          const app = Fastify();
          app.get('/hello', async () => ({ hello: 'from the app' }));
          gatehouse = await createGatehouse({ config: embedConfig(port, database), secret: TEST_SECRET });
          assert.equal(gatehouse.prefix, '/auth');
          await gatehouse.mount(app);
          await app.listen({ port, host: '127.0.0.1' });
          server = app.server;
          const issuer = `http://127.0.0.1:${port}/auth`;
          await assertPathAwareMetadata(`http://127.0.0.1:${port}`, issuer);
          const { userinfo } = await codeFlow(issuer, ALICE);
          assert.equal(userinfo.email, ALICE.email);
          assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/hello`)).json(), { hello: 'from the app' });
          // The app's 404 outside the prefix; Gatehouse's JSON error inside it.
          const unknown = await fetch(`http://127.0.0.1:${port}/auth/nope`);
          assert.equal(unknown.status, 404);
          assert.equal(((await unknown.json()) as { error: string }).error, 'not_found');
        },
        teardown,
      ),
    );

    it(
      'RFC 8414 §3.1: mounted under /auth of an Express app, a client completes the code flow and the app route still answers',
      onStoreTarget(
        target,
        async (database) => {
          const port = await freePort();
          const express = await loadExpress();
          const app = express();
          app.get('/hello', (_req, res) => res.json({ hello: 'from the app' }));
          gatehouse = await createGatehouse({ config: embedConfig(port, database), secret: TEST_SECRET });
          app.use(gatehouse.handler);
          server = createServer(app);
          await listen(server, port);
          const issuer = `http://127.0.0.1:${port}/auth`;
          await assertPathAwareMetadata(`http://127.0.0.1:${port}`, issuer);
          const { userinfo } = await codeFlow(issuer, ALICE);
          assert.equal(userinfo.name, ALICE.name);
          assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/hello`)).json(), { hello: 'from the app' });
        },
        teardown,
      ),
    );

    it(
      "OIDC Core §5.3: with the app's own user table, a user not in Gatehouse's store signs in and UserInfo serves the app's claims",
      onStoreTarget(
        target,
        async (database) => {
          const port = await freePort();
          const table: ExternalUser[] = [
            { id: 'app-user-7', username: 'bob', name: 'Bob Builder', email: 'bob@app.example', locale: 'en-GB' },
          ];
          const passwords = new Map([['app-user-7', 'bobs own password']]);
          let verifications = 0;
          const express = await loadExpress();
          const app = express();
          gatehouse = await createGatehouse({
            config: {
              ...embedConfig(port, database, []),
              // One free failure per (username, address), then a minute's wait after each.
              limits: {
                login_user_address: { free_attempts: 1, backoff_base_ms: 60_000, lock_after: 10, lock_seconds: 900 },
              },
            },
            secret: TEST_SECRET,
            users: {
              findByUsername: (username) => table.find((user) => user.username === username),
              findById: async (id) => table.find((user) => user.id === id),
              verifyPassword: (user, password) => {
                verifications++;
                return passwords.get(user.id) === password;
              },
            },
          });
          app.use('/auth', gatehouse.handler);
          app.use(gatehouse.handler);
          server = createServer(app);
          await listen(server, port);
          assert.equal(await gatehouse.store.users.getByUsername('bob'), undefined);
          const issuer = `http://127.0.0.1:${port}/auth`;
          const { tokens, userinfo } = await codeFlow(issuer, { username: 'bob', password: 'bobs own password' });
          assert.equal(tokens.claims()!.sub, 'app-user-7');
          assert.equal(userinfo.email, 'bob@app.example');
          assert.equal(userinfo.name, 'Bob Builder');
          // The shadow row the session and the grant reference: the app's id, no usable password.
          const shadow = await gatehouse.store.users.getById('app-user-7');
          assert.equal(shadow?.username, 'bob');
          assert.equal(shadow?.passwordHash, '');
          // A wrong password is refused by the app's check, with the login page again.
          const ua = new UserAgent(`http://127.0.0.1:${port}`);
          const config = await discoverAs({ url: issuer }, CONFIDENTIAL_CLIENT);
          const url = client.buildAuthorizationUrl(config, {
            redirect_uri: CONFIDENTIAL_CLIENT.redirect_uris[0]!,
            scope: 'openid',
            code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
            code_challenge_method: 'S256',
          });
          const page = await ua.authorize(url.href, { username: 'bob', password: 'wrong' });
          assert.match(page.body, /Incorrect username or password/);
          // The brute-force limits apply as to Gatehouse's own users: refused before the app's check runs.
          const again = await ua.submit(page, { username: 'bob', password: 'still wrong' });
          assert.match(again.body, /Incorrect username or password/);
          const checks = verifications;
          const limited = await ua.submit(again, { username: 'bob', password: 'bobs own password' });
          assert.equal(limited.status, 429);
          assert.match(limited.body, /Too many sign-in attempts/);
          assert.equal(verifications, checks);
        },
        teardown,
      ),
    );
  });
}

describe('createGatehouse options', () => {
  it('RFC 8414 §2: the config object is validated like a config file, with the same errors', async () => {
    await assert.rejects(
      createGatehouse({ config: { issuer: 'http://127.0.0.1:1/auth', databse: 'sqlite::memory:' } }),
      (error: unknown) =>
        error instanceof ConfigError && /databse/.test(error.message) && /database/.test(error.message),
    );
    await assert.rejects(
      createGatehouse({ config: { issuer: 'https://example.com/auth?x=1', database: 'sqlite::memory:' } }),
      (error: unknown) => error instanceof ConfigError && /query or fragment/.test(error.message),
    );
  });
});

describe('docs/embedding.md, "Embedding Gatehouse in your app"', () => {
  it('every gatehouse.<member> and user-table hook its examples use exists on a created Gatehouse', async () => {
    const section = await readFile(new URL('../../docs/embedding.md', import.meta.url), 'utf8');
    assert.ok(section.startsWith('# Embedding Gatehouse in your app\n'));
    const snippets = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
    assert.equal(snippets.length, 2, 'a Fastify and an Express example');
    assert.match(snippets[0]!, /await gatehouse\.mount\(app\)/);
    assert.match(snippets[1]!, /app\.use\(gatehouse\.handler\)/);
    const gatehouse = await createGatehouse({
      config: { issuer: 'http://127.0.0.1:9/auth', database: 'sqlite::memory:' },
      secret: TEST_SECRET,
    });
    try {
      const members = new Set(
        snippets.flatMap((code) => [...code.matchAll(/(?<![./\w])gatehouse\.(\w+)/g)].map((m) => m[1]!)),
      );
      for (const member of members) assert.ok(member in gatehouse, `gatehouse.${member}`);
      for (const hook of ['findByUsername', 'findById', 'verifyPassword'])
        assert.match(snippets[1]!, new RegExp(`${hook}:`));
      assert.equal(gatehouse.prefix, '/auth');
    } finally {
      await gatehouse.close();
    }
  });
});
