/**
 * Mixed-load soak: `npm run bench:mixed [-- --duration 60 --database URL --concurrency 16]`.
 *
 * Starts Gatehouse (bench/servers/gatehouse.ts, its own process, 127.0.0.1 only) on a fresh
 * SQLite file by default, or on PostgreSQL with `--database postgres://...` (in a schema of its
 * own, dropped afterwards), and runs a closed-loop mix for `--duration` seconds (default 60) or
 * `--max-operations` operations (default 500000), whichever comes first:
 *
 *   full authorization code flows through the login and consent pages (a new browser each),
 *   code flows of a signed-in browser, refreshes (rotation), introspections, and 5% malformed
 *   requests (unknown grant types, JSON bodies, forged codes and tokens, duplicate parameters,
 *   wrong secrets, unknown clients, wrong redirect URIs, oversized bodies, bad bearer tokens).
 *
 * It reports: 5xx answers (must be 0), wrong answers, tokens lost (answered but not in the
 * store) or duplicated (the same jti or refresh token answered twice), rows in the store that
 * no answer carried, and the server's RSS sampled every second (first, last, max). Exit status
 * 0 only when there were no 5xx, no wrong answers, and no lost, duplicated or unaccounted tokens.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { MAX_VIRTUAL_USERS, REDIRECT_URI, parseArgs, type ServerInfo } from './lib/common.js';
import {
  basicAuthorization,
  browse,
  check,
  CheckError,
  CookieJar,
  formEncode,
  jwtParts,
  parseJson,
  send,
  type Answer,
} from './lib/http.js';
import { startServer, stopAllChildren } from './lib/processes.js';
import { authorizeUrl, filledForm, newPkce } from './lib/scenarios.js';
import { openStore } from '../src/store/open-store.js';
import { storedTokenKey } from '../src/core/secrets.js';
import type { KyselyStore } from '../src/store/kysely-store.js';

const args = parseArgs(process.argv.slice(2));
const durationSeconds = Number(args.get('duration') ?? 60);
const concurrency = Number(args.get('concurrency') ?? 16);
const maxOperations = Number(args.get('max-operations') ?? 500_000);
if (!(durationSeconds > 0 && durationSeconds <= 3600)) throw new Error('--duration must be 1..3600 seconds');
if (!(concurrency >= 1 && concurrency <= MAX_VIRTUAL_USERS))
  throw new Error(`--concurrency must be 1..${MAX_VIRTUAL_USERS}`);

// --- the database ---------------------------------------------------------------------------

interface Database {
  url: string;
  label: string;
  cleanup(): Promise<void>;
}

async function prepareDatabase(): Promise<Database> {
  const given = args.get('database');
  if (given === undefined) {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-mixed-'));
    return {
      url: `sqlite:${join(dir, 'gatehouse.db')}`,
      label: 'SQLite file in a temp dir',
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }
  if (!/^postgres(ql)?:\/\//.test(given))
    throw new Error('--database must be a postgres:// URL (the default is a temp SQLite file)');
  const url = new URL(given);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    throw new Error('the benchmark only talks to a database on 127.0.0.1');
  if (url.searchParams.has('schema'))
    return { url: given, label: 'PostgreSQL (the given schema)', cleanup: async () => {} };
  const schema = `gh_bench_mixed_${randomBytes(6).toString('hex')}`;
  url.searchParams.set('schema', schema);
  return {
    url: url.toString(),
    label: `PostgreSQL, schema ${schema} (dropped afterwards)`,
    async cleanup() {
      const client = new pg.Client({ connectionString: given });
      client.on('error', () => {});
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

// --- bookkeeping ----------------------------------------------------------------------------

const issuedJtis = new Map<string, number>();
const issuedRefreshHashes = new Map<string, number>();
const accessTokens: string[] = [];
const counts = { operations: 0, requests: 0, serverErrors: 0, wrongAnswers: 0, malformed: 0 };
const byKind = new Map<string, number>();
const errorSamples = new Map<string, number>();

/** Every token an answer carried, counted (a second sighting is a duplicate). */
function recordTokens(body: Record<string, unknown>): void {
  const jti = jwtParts(body['access_token'])?.payload['jti'];
  check(typeof jti === 'string', () => 'token response: access token without jti');
  issuedJtis.set(jti, (issuedJtis.get(jti) ?? 0) + 1);
  accessTokens.push(body['access_token'] as string);
  if (accessTokens.length > 5000) accessTokens.splice(0, 1000);
  if (typeof body['refresh_token'] === 'string') {
    // The key the store keeps it under (a refresh token is never stored itself).
    const hash = storedTokenKey(body['refresh_token']);
    issuedRefreshHashes.set(hash, (issuedRefreshHashes.get(hash) ?? 0) + 1);
  }
}

async function request(url: string, init: Parameters<typeof send>[1] = {}): Promise<Answer> {
  counts.requests++;
  const answer = await send(url, init);
  if (answer.status >= 500) {
    counts.serverErrors++;
    throw new CheckError(
      `${init.method ?? (init.form ? 'POST' : 'GET')} ${new URL(url).pathname}: ${answer.status} ${answer.text.slice(0, 200)}`,
    );
  }
  return answer;
}

async function browseCounted(jar: CookieJar, url: string, init: { form?: string } = {}): Promise<Answer> {
  counts.requests++;
  const answer = await browse(jar, url, init);
  if (answer.status >= 500) {
    counts.serverErrors++;
    throw new CheckError(`${new URL(url).pathname}: ${answer.status} ${answer.text.slice(0, 200)}`);
  }
  return answer;
}

// --- operations -----------------------------------------------------------------------------

const random = (bytes = 16) => randomBytes(bytes).toString('base64url');

function tokenResponse(answer: Answer, what: string): Record<string, unknown> {
  check(answer.status === 200, () => `${what}: status ${answer.status}: ${answer.text.slice(0, 200)}`);
  const body = parseJson(answer, what);
  check(typeof body['access_token'] === 'string', () => `${what}: no access_token`);
  recordTokens(body);
  return body;
}

/** One authorization code flow; with a new jar, through the login and consent pages. */
async function codeFlow(server: ServerInfo, jar: CookieJar, user: number): Promise<Record<string, unknown>> {
  const { verifier, challenge } = newPkce();
  const state = random();
  let url = authorizeUrl(server, { state, nonce: random(), challenge });
  let answer = await browseCounted(jar, url);
  for (let step = 0; step < 10; step++) {
    if (answer.status === 302 || answer.status === 303) {
      const next = new URL(answer.headers.get('location') ?? '', url);
      if (`${next.origin}${next.pathname}` === REDIRECT_URI) {
        check(next.searchParams.get('state') === state, () => 'authorize: state mismatch');
        const code = next.searchParams.get('code');
        check(code, () => `authorize: no code in ${next.search}`);
        const token = await request(server.endpoints.token, {
          headers: { authorization: basicAuthorization(server.clients.web.id, server.clients.web.secret) },
          form: formEncode({
            grant_type: 'authorization_code',
            code,
            redirect_uri: REDIRECT_URI,
            code_verifier: verifier,
          }),
        });
        return tokenResponse(token, 'token (authorization_code)');
      }
      url = next.href;
      answer = await browseCounted(jar, url);
      continue;
    }
    const form = filledForm(answer, url, user);
    check(form, () => `authorize: stopped at ${url}: ${answer.status} ${answer.text.slice(0, 200)}`);
    url = form.url;
    answer = await browseCounted(jar, url, { form: form.form });
  }
  throw new CheckError('authorize: too many steps');
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

/** A POST with any content type and body (send() only posts forms). */
async function rawPost(url: string, headers: Record<string, string>, body: string): Promise<Answer> {
  counts.requests++;
  const response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual' });
  const answer = { status: response.status, headers: response.headers, text: await response.text() };
  if (answer.status >= 500) {
    counts.serverErrors++;
    throw new CheckError(`POST ${new URL(url).pathname}: ${answer.status} ${answer.text.slice(0, 200)}`);
  }
  return answer;
}

/**
 * The client address of a malformed request: an attacker's, not the legitimate clients' (which
 * come from 127.0.0.1). The server trusts the driver as its proxy (`--trust-proxy 127.0.0.1`),
 * so the brute-force limits (per IP) lock these addresses and leave the legitimate traffic alone.
 */
function attacker(): Record<string, string> {
  return { 'x-forwarded-for': `203.0.113.${1 + Math.floor(Math.random() * 50)}` };
}

/** Requests a correct server refuses with a 4xx (never 5xx, never a token), from attackers' addresses. */
function malformedRequests(server: ServerInfo): Array<() => Promise<Answer>> {
  const web = basicAuthorization(server.clients.web.id, server.clients.web.secret);
  const token = server.endpoints.token;
  const base = new URL(server.endpoints.authorization).origin;
  const asAttacker = (headers: Record<string, string> = {}) => ({ ...attacker(), ...headers });
  return [
    () =>
      request(token, {
        headers: asAttacker({ authorization: web }),
        form: 'grant_type=password&username=a&password=b',
      }),
    () =>
      rawPost(
        token,
        asAttacker({ authorization: web, 'content-type': 'application/json' }),
        '{"grant_type":"client_credentials"}',
      ),
    () =>
      request(token, {
        headers: asAttacker({ authorization: web }),
        form: formEncode({
          grant_type: 'authorization_code',
          code: random(),
          redirect_uri: REDIRECT_URI,
          code_verifier: random(32),
        }),
      }),
    () =>
      request(token, {
        headers: asAttacker({ authorization: web }),
        form: 'grant_type=refresh_token&grant_type=refresh_token&refresh_token=x',
      }),
    () =>
      request(token, {
        headers: asAttacker({ authorization: web }),
        form: formEncode({ grant_type: 'refresh_token', refresh_token: random(32) }),
      }),
    // Guessing a secret: for the service client, which the legitimate mix does not use, since
    // failures also lock the client_id (and would lock out the web client's real traffic).
    () =>
      request(token, {
        headers: asAttacker({ authorization: basicAuthorization(server.clients.service.id, 'wrong-secret') }),
        form: 'grant_type=client_credentials',
      }),
    () =>
      request(token, {
        headers: asAttacker({ authorization: web }),
        form: `grant_type=%ZZ%00&\u0001=${'%'.repeat(50)}&__proto__=x&constructor[prototype]=y`,
      }),
    () =>
      request(token, {
        headers: asAttacker({ authorization: web }),
        form: `grant_type=client_credentials&scope=${'a'.repeat(100_000)}`,
      }),
    () =>
      request(
        `${server.endpoints.authorization}?response_type=code&client_id=no-such-client&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`,
        { headers: asAttacker() },
      ),
    () =>
      request(
        `${server.endpoints.authorization}?response_type=code&client_id=${encodeURIComponent(server.clients.web.id)}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
        { headers: asAttacker() },
      ),
    () => request(server.endpoints.introspection, { headers: asAttacker(), form: formEncode({ token: random() }) }),
    () => request(`${base}/userinfo`, { headers: asAttacker({ authorization: `Bearer ${random(40)}` }) }),
  ];
}

interface VirtualClient {
  jar: CookieJar;
  user: number;
  refreshToken: string;
}

async function operation(
  server: ServerInfo,
  client: VirtualClient,
  malformed: Array<() => Promise<Answer>>,
): Promise<string> {
  const roll = Math.random();
  if (roll < 0.05) {
    counts.malformed++;
    const answer = await pick(malformed)();
    check(
      answer.status >= 400 && answer.status < 500,
      () => `malformed request: status ${answer.status}: ${answer.text.slice(0, 200)}`,
    );
    return 'malformed';
  }
  if (roll < 0.15) {
    // A new browser: the whole interaction (login, and consent unless remembered).
    const body = await codeFlow(server, new CookieJar(), client.user);
    client.refreshToken = body['refresh_token'] as string;
    return 'full flow (login)';
  }
  if (roll < 0.45) {
    const body = await codeFlow(server, client.jar, client.user);
    client.refreshToken = body['refresh_token'] as string;
    return 'code flow (session)';
  }
  if (roll < 0.75) {
    const answer = await request(server.endpoints.token, {
      headers: { authorization: basicAuthorization(server.clients.web.id, server.clients.web.secret) },
      form: formEncode({ grant_type: 'refresh_token', refresh_token: client.refreshToken }),
    });
    const body = tokenResponse(answer, 'token (refresh_token)');
    check(
      typeof body['refresh_token'] === 'string' && body['refresh_token'] !== client.refreshToken,
      () => 'refresh: not rotated',
    );
    client.refreshToken = body['refresh_token'] as string;
    return 'refresh';
  }
  const answer = await request(server.endpoints.introspection, {
    headers: { authorization: basicAuthorization(server.clients.introspector.id, server.clients.introspector.secret) },
    form: formEncode({ token: pick(accessTokens), token_type_hint: 'access_token' }),
  });
  check(
    answer.status === 200 && parseJson(answer, 'introspection')['active'] === true,
    () => `introspection: ${answer.status} ${answer.text.slice(0, 200)}`,
  );
  return 'introspection';
}

// --- memory ---------------------------------------------------------------------------------

function rssBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

// --- run ------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const database = await prepareDatabase();
  console.log(
    `Mixed load: ${durationSeconds} s (at most ${maxOperations} operations), ${concurrency} virtual clients, ${database.label}`,
  );
  const server = await startServer('servers/gatehouse.ts', ['--database', database.url, '--trust-proxy', '127.0.0.1']);
  const info = server.info;
  const rss: Array<{ at: number; bytes: number }> = [];
  let sampler: NodeJS.Timeout | undefined;
  let failed = false;
  try {
    // Ready every virtual client: a first full flow through the pages.
    const clients: VirtualClient[] = [];
    for (let index = 0; index < concurrency; index++) {
      const jar = new CookieJar();
      const body = await codeFlow(info, jar, index);
      clients.push({ jar, user: index, refreshToken: body['refresh_token'] as string });
    }
    const malformed = malformedRequests(info);
    const start = performance.now();
    const sample = () => {
      const bytes = rssBytes(info.pid);
      if (bytes !== undefined) rss.push({ at: (performance.now() - start) / 1000, bytes });
    };
    sample();
    sampler = setInterval(sample, 1000);
    const deadline = start + durationSeconds * 1000;
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < deadline && counts.operations < maxOperations) {
          counts.operations++;
          try {
            const kind = await operation(info, client, malformed);
            byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
          } catch (error) {
            counts.wrongAnswers++;
            const message = error instanceof Error ? error.message.slice(0, 160) : String(error);
            errorSamples.set(message, (errorSamples.get(message) ?? 0) + 1);
            // Start over with a fresh session and token chain.
            try {
              client.jar = new CookieJar();
              client.refreshToken = (await codeFlow(info, client.jar, client.user))['refresh_token'] as string;
            } catch {
              // counted above; the next operation tries again
            }
          }
        }
      }),
    );
    clearInterval(sampler);
    sample();
    const seconds = (performance.now() - start) / 1000;
    // A graceful stop: every answered request's writes are committed.
    await server.stop();

    // Every token answered must be in the store, once; the store must hold no other.
    const store = (await openStore(database.url)) as KyselyStore;
    let lostAccess = 0;
    let lostRefresh = 0;
    let unaccountedAccess = 0;
    let unaccountedRefresh = 0;
    try {
      const storedJtis = new Set(
        (await store.db.selectFrom('access_tokens').select('jti').execute()).map((row) => row.jti),
      );
      const storedRefresh = new Set(
        (await store.db.selectFrom('refresh_tokens').select('token_hash').execute()).map((row) => row.token_hash),
      );
      for (const jti of issuedJtis.keys()) if (!storedJtis.has(jti)) lostAccess++;
      for (const hash of issuedRefreshHashes.keys()) if (!storedRefresh.has(hash)) lostRefresh++;
      for (const jti of storedJtis) if (!issuedJtis.has(jti)) unaccountedAccess++;
      for (const hash of storedRefresh) if (!issuedRefreshHashes.has(hash)) unaccountedRefresh++;
    } finally {
      await store.close();
    }
    const duplicatedAccess = [...issuedJtis.values()].filter((n) => n > 1).length;
    const duplicatedRefresh = [...issuedRefreshHashes.values()].filter((n) => n > 1).length;

    const first = rss[0]?.bytes ?? 0;
    const last = rss.at(-1)?.bytes ?? 0;
    const max = Math.max(...rss.map((s) => s.bytes));
    // After the warm-up (the first fifth of the run), memory should plateau.
    const warm = rss.filter((s) => s.at >= seconds / 5);
    const warmFirst = warm[0]?.bytes ?? first;
    const growth = last - warmFirst;
    const stable = growth <= Math.max(32 * 1024 * 1024, warmFirst * 0.25);

    console.log('');
    console.log(
      `operations: ${counts.operations} in ${seconds.toFixed(1)} s (${(counts.operations / seconds).toFixed(0)}/s), requests: ${counts.requests}`,
    );
    for (const [kind, n] of [...byKind].sort()) console.log(`  ${kind}: ${n}`);
    console.log(`5xx answers: ${counts.serverErrors}`);
    console.log(`wrong answers: ${counts.wrongAnswers}`);
    for (const [message, n] of errorSamples) console.log(`  ${n} x ${message}`);
    console.log(
      `access tokens answered: ${issuedJtis.size}, lost: ${lostAccess}, duplicated: ${duplicatedAccess}, in the store but never answered: ${unaccountedAccess}`,
    );
    console.log(
      `refresh tokens answered: ${issuedRefreshHashes.size}, lost: ${lostRefresh}, duplicated: ${duplicatedRefresh}, in the store but never answered: ${unaccountedRefresh}`,
    );
    console.log(
      `server RSS: first ${mb(first)}, after warm-up ${mb(warmFirst)}, last ${mb(last)}, max ${mb(max)} (${rss.length} samples): ${stable ? 'stable' : 'GROWING'}`,
    );
    failed =
      counts.serverErrors > 0 ||
      counts.wrongAnswers > 0 ||
      lostAccess + lostRefresh + duplicatedAccess + duplicatedRefresh + unaccountedAccess + unaccountedRefresh > 0 ||
      !stable;
    console.log(failed ? 'RESULT: FAIL' : 'RESULT: PASS');
  } finally {
    if (sampler) clearInterval(sampler);
    await server.stop();
    await database.cleanup();
  }
  return failed ? 1 : 0;
}

process.on('SIGINT', () => {
  stopAllChildren();
  process.exit(130);
});

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    stopAllChildren();
    process.exit(1);
  },
);
