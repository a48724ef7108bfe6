/**
 * Several instances act as one server: two `gatehouse start` processes on different ports, with
 * the same GATEHOUSE_DATABASE_URL (one fresh PostgreSQL schema), GATEHOUSE_SECRET and issuer. The
 * test plays the load balancer, sending each request to the instance it chooses; browser cookies
 * are host-scoped, so (as a real browser on 127.0.0.1 would) it sends the same cookies to both.
 *
 * Stated invalidation times (docs/operations.md, "Running many instances"): on PostgreSQL a change reaches
 * every instance through LISTEN/NOTIFY at once; a cached client is used at most
 * client_cache_ttl_seconds (5 s) after a change even if notifications were lost, and keys are
 * reloaded every 30 s. The waits below poll well beyond that and fail if it is not met.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { ClientFixture } from '../../src/config/settings.js';
import { s256Challenge } from '../../src/core/pkce.js';
import { runCli, spawnCli, type CliProcess } from '../helpers/cli.js';
import {
  basicAuthorization,
  newVerifier,
  obtainCode,
  postToken,
  codeRequest,
  authorizeUrl,
} from '../helpers/code-flow.js';
import { dropPostgresSchema, postgresSkipMessage, postgresTestUrl } from '../helpers/postgres.js';
import { UserAgent, isConsentPage, isLoginPage } from '../helpers/user-agent.js';

const SECRET = `multi-instance-${randomBytes(16).toString('hex')}`;
const WEB = { id: 'web', secret: 'web-secret-that-is-long-enough-0123' };
const SERVICE = { id: 'service', secret: 'service-secret-that-is-long-enough-0' };
const DOOMED = { id: 'doomed', secret: 'doomed-secret-that-is-long-enough-01' };
const ALICE = { username: 'alice', password: 'correct horse battery staple' };
const REDIRECT_URI = 'http://127.0.0.1:9000/callback';
const COOKIES = ['gh_session', 'gh_browser'];

const WEB_CLIENT: ClientFixture = {
  client_id: WEB.id,
  client_secret: WEB.secret,
  redirect_uris: [REDIRECT_URI],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'openid profile offline_access',
  require_pkce: true,
};

const CONFIG = {
  clients: [
    WEB_CLIENT,
    ...[SERVICE, DOOMED].map((client) => ({
      client_id: client.id,
      client_secret: client.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'api:read',
    })),
  ],
  users: [ALICE],
};

interface Instance {
  name: string;
  url: string;
  process: CliProcess;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls (every 50 ms, at most `attempts` times) until `condition` holds. */
async function eventually(what: string, condition: () => Promise<boolean>, attempts = 300): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`timed out waiting until ${what}`);
}

async function introspect(instance: { url: string }, token: string, client = WEB): Promise<Record<string, unknown>> {
  const response = await fetch(new URL('/introspect', instance.url), {
    method: 'POST',
    headers: {
      authorization: basicAuthorization(client.id, client.secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }).toString(),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as Record<string, unknown>;
}

async function clientCredentials(instance: { url: string }, client = SERVICE) {
  return postToken(instance, { grant_type: 'client_credentials', scope: 'api:read' }, { basic: client });
}

/**
 * Polls each of `instances` until `send` is refused with `status` and `error`: anything else than
 * that refusal or a 200 (still cached) fails at once.
 */
async function eventuallyRefusedBy(
  instances: Instance[],
  what: string,
  send: (instance: Instance) => ReturnType<typeof postToken>,
  status: number,
  error: string,
): Promise<void> {
  for (const instance of instances) {
    await eventually(`instance ${instance.name} refuses the deleted ${what}`, async () => {
      const response = await send(instance);
      assert.ok(
        response.status === 200 || response.status === status,
        `never an error but ${error}: ${response.status} ${response.text}`,
      );
      return response.status === status && response.body['error'] === error;
    });
  }
}

/** A second scripted browser on `to` with the cookies of `from` (same host, so the same cookies). */
function sameBrowser(from: UserAgent, to: string): UserAgent {
  const ua = new UserAgent(to);
  copyCookies(from, ua);
  return ua;
}

function copyCookies(from: UserAgent, to: UserAgent): void {
  for (const name of COOKIES) {
    const value = from.cookie(name);
    if (value !== undefined) to.setCookie(name, value);
  }
}

describe('two Gatehouse instances on one PostgreSQL database', () => {
  let databaseUrl: string | undefined;
  let dir: string | undefined;
  /** A and B, once both answer. */
  const instances: Instance[] = [];

  before(async () => {
    // Under CI=true this throws when PostgreSQL is unreachable: the test never skips there.
    databaseUrl = await postgresTestUrl();
    if (!databaseUrl) return;
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-multi-'));
    const config = join(dir, 'gatehouse.json');
    await writeFile(config, JSON.stringify(CONFIG));
    const [portA, portB] = [await freePort(), await freePort()];
    // One issuer for both, as behind a load balancer (the pages redirect with relative URLs).
    const issuer = `http://127.0.0.1:${portA}`;
    const env = { GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_SECRET: SECRET, GATEHOUSE_ISSUER: issuer };
    const start = (name: string, port: number): Instance => ({
      name,
      url: `http://127.0.0.1:${port}`,
      process: spawnCli(['start', '--config', config, '--host', '127.0.0.1', '--port', String(port)], { env }),
    });
    // Started together: migrations, fixtures and the first signing keys race, as in a deployment.
    const started = [start('A', portA), start('B', portB)];
    instances.push(...started);
    for (const instance of started) {
      await eventually(
        `instance ${instance.name} answers (output so far: ${instance.process.output()})`,
        async () => {
          if (instance.process.child.exitCode !== null)
            assert.fail(`instance ${instance.name} exited: ${instance.process.output()}`);
          try {
            return (await fetch(new URL('/.well-known/openid-configuration', instance.url))).status === 200;
          } catch {
            return false;
          }
        },
        600,
      );
    }
  });

  after(async () => {
    for (const instance of instances) {
      if (instance.process.child.exitCode === null && instance.process.child.signalCode === null) {
        instance.process.child.kill('SIGTERM');
        await instance.process.exited;
      }
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    if (databaseUrl) await dropPostgresSchema(databaseUrl);
  });

  it("a flow started on A (authorization request, login, consent, across both) finishes at B's token endpoint, and B refreshes", async (t) => {
    const [a, b] = instances;
    if (!a || !b) return t.skip(postgresSkipMessage());
    const verifier = newVerifier();
    const state = randomBytes(8).toString('hex');
    const uaA = new UserAgent(a.url);
    // RFC 6749 §4.1.1 at A: the login page (an interaction stored in the database).
    const login = await uaA.navigate(
      authorizeUrl(a, {
        response_type: 'code',
        client_id: WEB.id,
        redirect_uri: REDIRECT_URI,
        scope: 'openid offline_access',
        state,
        code_challenge: s256Challenge(verifier),
        code_challenge_method: 'S256',
      }),
    );
    assert.ok(isLoginPage(login), login.body.slice(0, 300));
    // The login form is submitted to B, which knows the interaction from the database.
    const uaB = sameBrowser(uaA, b.url);
    const loginAtB = await uaB.navigate(new URL(new URL(login.url).pathname, b.url).href);
    assert.ok(isLoginPage(loginAtB));
    const consentAtB = await uaB.submit(loginAtB, ALICE);
    assert.ok(isConsentPage(consentAtB), consentAtB.body.slice(0, 300));
    // The consent is given at A again, with the session cookie B set.
    copyCookies(uaB, uaA);
    const consentAtA = await uaA.navigate(new URL(new URL(consentAtB.url).pathname, a.url).href);
    assert.ok(isConsentPage(consentAtA));
    const final = await uaA.submit(consentAtA, { decision: 'allow' });
    assert.equal(final.status, 303, final.body.slice(0, 300));
    const redirect = new URL(final.location!);
    assert.equal(redirect.searchParams.get('state'), state);
    const code = redirect.searchParams.get('code')!;

    // RFC 6749 §4.1.3 at B.
    const tokens = await postToken(
      b,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier },
      { basic: WEB },
    );
    assert.equal(tokens.status, 200, tokens.text);
    const accessToken = tokens.body['access_token'] as string;
    const refreshToken = tokens.body['refresh_token'] as string;
    assert.ok(accessToken && refreshToken && tokens.body['id_token']);
    // RFC 6749 §4.1.2: the code is single-use across instances too.
    const replay = await postToken(
      a,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier },
      { basic: WEB },
    );
    assert.equal(replay.status, 400);
    assert.equal(replay.body['error'], 'invalid_grant');

    // The session made at B works at A: a new authorization completes without login or consent.
    const again = await obtainCode(a, WEB_CLIENT, {
      ua: uaA,
      redirectUri: REDIRECT_URI,
      scope: 'openid offline_access',
    });
    const second = await postToken(a, codeRequest(again), { basic: WEB });
    assert.equal(second.status, 200, second.text);

    // RFC 6749 §6 at B with the refresh token issued... by B; and the new one at A.
    const refreshed = await postToken(
      b,
      { grant_type: 'refresh_token', refresh_token: second.body['refresh_token'] as string },
      { basic: WEB },
    );
    assert.equal(refreshed.status, 200, refreshed.text);
    const refreshedAtA = await postToken(
      a,
      { grant_type: 'refresh_token', refresh_token: refreshed.body['refresh_token'] as string },
      { basic: WEB },
    );
    assert.equal(refreshedAtA.status, 200, refreshedAtA.text);
    assert.equal((await introspect(b, refreshedAtA.body['access_token'] as string))['active'], true);
  });

  it('RFC 7009: a token revoked at A is inactive at B (RFC 7662)', async (t) => {
    const [a, b] = instances;
    if (!a || !b) return t.skip(postgresSkipMessage());
    const obtained = await obtainCode(b, WEB_CLIENT, { redirectUri: REDIRECT_URI, scope: 'openid offline_access' });
    const tokens = await postToken(b, codeRequest(obtained), { basic: WEB });
    assert.equal(tokens.status, 200, tokens.text);
    const accessToken = tokens.body['access_token'] as string;
    const refreshToken = tokens.body['refresh_token'] as string;
    assert.equal((await introspect(b, accessToken))['active'], true);
    const revoke = async (token: string) =>
      fetch(new URL('/revoke', a!.url), {
        method: 'POST',
        headers: {
          authorization: basicAuthorization(WEB.id, WEB.secret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }).toString(),
      });
    assert.equal((await revoke(accessToken)).status, 200);
    assert.deepEqual(await introspect(b, accessToken), { active: false });
    // Revoking the refresh token at A revokes the family: B refuses to refresh it.
    assert.equal((await introspect(b, refreshToken))['active'], true);
    assert.equal((await revoke(refreshToken)).status, 200);
    assert.deepEqual(await introspect(b, refreshToken), { active: false });
    const refused = await postToken(b, { grant_type: 'refresh_token', refresh_token: refreshToken }, { basic: WEB });
    assert.equal(refused.body['error'], 'invalid_grant');
  });

  it("a key rotated on the shared database (gatehouse keys rotate --activate-after 0) signs B's new tokens", async (t) => {
    const [a, b] = instances;
    if (!a || !b || !databaseUrl) return t.skip(postgresSkipMessage());
    const kidOf = (token: string) => decodeProtectedHeader(token).kid;
    const before = await clientCredentials(b);
    assert.equal(before.status, 200, before.text);
    const oldKid = kidOf(before.body['access_token'] as string);
    const rotation = await runCli(['keys', 'rotate', '--alg', 'ES256', '--activate-after', '0'], {
      env: { GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_SECRET: SECRET },
    });
    assert.equal(rotation.code, 0, rotation.stderr);
    const newKid = /Created ES256 signing key (\S+)\./.exec(rotation.stdout)?.[1];
    assert.ok(newKid && newKid !== oldKid, rotation.stdout);
    // Stated time: at once through LISTEN/NOTIFY (30 s by the periodic reload otherwise).
    for (const instance of [b, a]) {
      await eventually(`instance ${instance.name} signs with the new key`, async () => {
        const issued = await clientCredentials(instance);
        return issued.status === 200 && kidOf(issued.body['access_token'] as string) === newKid;
      });
    }
    // The old key's tokens still validate everywhere (it stays published).
    assert.equal((await introspect(a, before.body['access_token'] as string, SERVICE))['active'], true);
  });

  it('a client deleted on the shared database (gatehouse clients delete) stops working on both instances', async (t) => {
    const [a, b] = instances;
    if (!a || !b || !databaseUrl) return t.skip(postgresSkipMessage());
    // Both instances have the client cached.
    for (const instance of [a, b]) assert.equal((await clientCredentials(instance, DOOMED)).status, 200);
    const deletion = await runCli(['clients', 'delete', DOOMED.id], { env: { GATEHOUSE_DATABASE_URL: databaseUrl } });
    assert.equal(deletion.code, 0, deletion.stderr);
    // Stated time: at once through LISTEN/NOTIFY, at most client_cache_ttl_seconds (5 s).
    await eventuallyRefusedBy(
      [b, a],
      'client',
      (instance) => clientCredentials(instance, DOOMED),
      401,
      'invalid_client',
    );
  });

  it('RFC 8707: a resource registered and then deleted on the shared database (gatehouse resources) is refused by both instances', async (t) => {
    const [a, b] = instances;
    if (!a || !b || !databaseUrl) return t.skip(postgresSkipMessage());
    const resource = 'https://doomed-api.example';
    const withResource = (instance: { url: string }) =>
      postToken(instance, { grant_type: 'client_credentials', scope: 'api:read', resource }, { basic: SERVICE });
    const creation = await runCli(['resources', 'create', resource], { env: { GATEHOUSE_DATABASE_URL: databaseUrl } });
    assert.equal(creation.code, 0, creation.stderr);
    // Both instances have the resource cached.
    for (const instance of [a, b]) {
      await eventually(
        `instance ${instance.name} accepts the new resource`,
        async () => (await withResource(instance)).status === 200,
      );
    }
    const deletion = await runCli(['resources', 'delete', resource], { env: { GATEHOUSE_DATABASE_URL: databaseUrl } });
    assert.equal(deletion.code, 0, deletion.stderr);
    // Stated time: at once through LISTEN/NOTIFY, at most client_cache_ttl_seconds (5 s).
    await eventuallyRefusedBy([b, a], 'resource', withResource, 400, 'invalid_target');
  });

  it('one instance killed (SIGKILL) mid-load: no issued token, code or session is lost or duplicated', async (t) => {
    const [a, b] = instances;
    if (!a || !b) return t.skip(postgresSkipMessage());
    let bDown = false;
    /** The load balancer: any instance while both are up; a request failing at a dead one goes to the survivor. */
    const pick = (i: number) => (bDown ? a! : instances[i % 2]!);
    async function balanced<T>(i: number, send: (instance: Instance) => Promise<T>): Promise<T> {
      const instance = pick(i);
      try {
        return await send(instance);
      } catch (error) {
        if (instance !== b) throw error;
        bDown = true;
        // The client retries on the survivor: the same code or refresh token, once.
        return send(a!);
      }
    }

    // Browsers with a session each, made half at A and half at B.
    const WORKERS = 6;
    const FLOWS = 5;
    const agents: UserAgent[] = [];
    for (let w = 0; w < WORKERS; w++) {
      const home = instances[w % 2]!;
      const obtained = await obtainCode(home, WEB_CLIENT, {
        redirectUri: REDIRECT_URI,
        scope: 'openid offline_access',
      });
      const first = await postToken(home, codeRequest(obtained), { basic: WEB });
      assert.equal(first.status, 200);
      agents.push(obtained.ua);
    }

    const accessTokens: string[] = [];
    const refreshChains: string[][] = [];
    const redeemedCodes = new Map<string, number>();
    const outcomes: string[] = [];
    let completed = 0;
    let killed: Promise<unknown> | undefined;

    async function worker(w: number): Promise<void> {
      for (let f = 0; f < FLOWS; f++) {
        const i = w + f;
        // The authorization request (session cookie, remembered consent) at one instance...
        const obtained = await balanced(i, (instance) =>
          obtainCode(instance, WEB_CLIENT, {
            ua: sameBrowser(agents[w]!, instance.url),
            redirectUri: REDIRECT_URI,
            scope: 'openid offline_access',
          }),
        );
        // ... the code at the other one.
        const tokens = await balanced(i + 1, (instance) => postToken(instance, codeRequest(obtained), { basic: WEB }));
        if (tokens.status !== 200) {
          // Only a redemption whose first attempt reached the killed instance may end like this:
          // its code was used there (the retry is a replay, RFC 6749 §4.1.2).
          assert.equal(tokens.body['error'], 'invalid_grant', tokens.text);
          outcomes.push(`code ${tokens.body['error_description']}`);
          continue;
        }
        redeemedCodes.set(obtained.code, (redeemedCodes.get(obtained.code) ?? 0) + 1);
        accessTokens.push(tokens.body['access_token'] as string);
        const chain = [tokens.body['refresh_token'] as string];
        refreshChains.push(chain);
        for (let r = 0; r < 3; r++) {
          const refreshed = await balanced(i + r, (instance) =>
            postToken(instance, { grant_type: 'refresh_token', refresh_token: chain.at(-1)! }, { basic: WEB }),
          );
          assert.equal(
            refreshed.status,
            200,
            `a refresh (retried within the grace window) succeeds: ${refreshed.text}`,
          );
          accessTokens.push(refreshed.body['access_token'] as string);
          chain.push(refreshed.body['refresh_token'] as string);
        }
        completed++;
        if (completed === 8 && !killed) {
          // Mid-load: requests are in flight at both instances.
          b!.process.child.kill('SIGKILL');
          killed = b!.process.exited;
        }
      }
    }
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    assert.ok(killed, 'B was killed during the load');
    assert.deepEqual(await killed, { code: null, signal: 'SIGKILL' });
    // At most the redemptions in flight at B when it died can have been lost (one per worker).
    assert.ok(
      completed >= WORKERS * FLOWS - WORKERS && outcomes.length <= WORKERS,
      `flows completed: ${completed}; others: ${outcomes.join(', ')}`,
    );

    // No code redeemed twice; no access token (jti) or refresh token issued twice.
    for (const [code, times] of redeemedCodes) assert.equal(times, 1, `code ${code} redeemed once`);
    const jtis = accessTokens.map((token) => decodeJwt(token).jti);
    assert.equal(new Set(jtis).size, jtis.length, 'every jti is unique');
    const refreshTokens = refreshChains.flat();
    assert.equal(new Set(refreshTokens).size, refreshTokens.length, 'every refresh token is unique');

    // Nothing lost: every access token the load received is active at the survivor, and the
    // last refresh token of every chain (the earlier ones were deliberately rotated).
    for (const token of accessTokens)
      assert.equal((await introspect(a, token))['active'], true, `access token ${decodeJwt(token).jti} is active`);
    for (const chain of refreshChains) {
      assert.equal((await introspect(a, chain.at(-1)!))['active'], true, 'the newest refresh token is active');
      for (const rotated of chain.slice(0, -1)) assert.deepEqual(await introspect(a, rotated), { active: false });
    }
    // Every browser's session, wherever it was made, still works at the survivor.
    for (const agent of agents) {
      const ua = sameBrowser(agent, a.url);
      const obtained = await obtainCode(a, WEB_CLIENT, {
        ua,
        redirectUri: REDIRECT_URI,
        scope: 'openid offline_access',
      });
      assert.ok(obtained.code);
    }
  });
});
