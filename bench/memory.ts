/**
 * Memory under steady load: `npm run bench:memory [-- --tokens N] [--concurrency C] [--refresh-every K] [--out FILE]`.
 *
 * Starts one Gatehouse on a SQLite file (bench/servers/gatehouse.ts, its own process) and issues
 * N tokens (default 1,000,000) at steady load from this process: client credentials with ES256
 * JWT access tokens for a resource and, every K-th request (default 10), a refresh-token
 * rotation of a few long-running families. It samples the server's resident set size (RSS, from
 * /proc) every second and prints it every 10 s and at the end, with the peak; the bound
 * is 300 MB. Every issued access token is recorded in the database (1 h lifetime), so the
 * tables grow to N rows during the run: memory must not grow with them.
 *
 * Duration: the run prints its rate; on the 2-core benchmark machine, shared with other work, it
 * was 300-800 tokens/s, so a million tokens take 20-55 minutes. `--tokens 30000` takes under a
 * minute. Not part of `npm test`.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formEncode, basicAuthorization } from './lib/http.js';
import {
  parseArgs,
  RESOURCE,
  RESOURCE_SCOPE,
  REDIRECT_URI,
  CODE_FLOW_SCOPE,
  userName,
  USER_PASSWORD,
  type ServerInfo,
} from './lib/common.js';
import { processRss } from './lib/proc.js';
import { startServer, stopAllChildren } from './lib/processes.js';

const args = parseArgs(process.argv.slice(2));
const positiveInt = (name: string, fallback: number): number => {
  const raw = args.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, not ${raw}`);
  return value;
};
const TOKENS = positiveInt('tokens', 1_000_000);
const CONCURRENCY = positiveInt('concurrency', 16);
const REFRESH_EVERY = positiveInt('refresh-every', 10);
const RSS_BOUND_BYTES = 300 * 1024 * 1024;

const MB = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function post(url: string, form: string, authorization: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
    body: form,
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) throw new Error(`POST ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** A refresh token family to rotate during the run: one authorization code flow with login. */
async function startFamily(server: ServerInfo, index: number): Promise<string> {
  const { createHash, randomBytes } = await import('node:crypto');
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const cookies = new Map<string, string>();
  const request = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (cookies.size > 0) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(new URL(url, server.issuer), { ...init, headers, redirect: 'manual' });
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair] = setCookie.split(';');
      const eq = pair!.indexOf('=');
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return response;
  };
  const authorize = new URL(server.endpoints.authorization);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: server.clients.web.id,
    redirect_uri: REDIRECT_URI,
    scope: CODE_FLOW_SCOPE,
    state: 's',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })) {
    authorize.searchParams.set(name, value);
  }
  let response = await request(authorize.href);
  // Login, then consent, following the interaction pages' forms.
  let location: string | null = null;
  for (let step = 0; step < 8; step++) {
    location = response.headers.get('location');
    if (location && new URL(location, server.issuer).origin !== new URL(server.issuer).origin) break;
    if (location) {
      response = await request(location);
      continue;
    }
    const page = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1]?.replace(/&amp;/g, '&');
    const csrf = /name="csrf_token" value="([^"]*)"/.exec(page)?.[1];
    if (!action) throw new Error(`no form on the page: ${page.slice(0, 200)}`);
    const fields: Record<string, string> = /name="password"/.test(page)
      ? { username: userName(index), password: USER_PASSWORD }
      : { decision: 'allow' };
    response = await request(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...(csrf ? { csrf_token: csrf } : {}), ...fields }).toString(),
    });
  }
  const code = location ? new URL(location).searchParams.get('code') : null;
  if (!code) throw new Error('the authorization did not end with a code');
  const tokens = await post(
    server.endpoints.token,
    formEncode({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
    basicAuthorization(server.clients.web.id, server.clients.web.secret),
  );
  return tokens['refresh_token'] as string;
}

const dir = await mkdtemp(join(tmpdir(), 'gatehouse-memory-'));
process.on('SIGINT', () => {
  stopAllChildren();
  process.exit(130);
});
const server = await startServer('servers/gatehouse.ts', ['--database', `sqlite:${join(dir, 'gatehouse.db')}`]);
const info = server.info;
const samples: Array<{ seconds: number; tokens: number; rssBytes: number }> = [];
try {
  const families = await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, 8) }, (_, index) => startFamily(info, index)),
  );
  /** The last refresh of each family: the next one waits for it. */
  const familyTurns: Array<Promise<unknown>> = families.map(() => Promise.resolve());
  const serviceAuthorization = basicAuthorization(info.clients.service.id, info.clients.service.secret);
  const webAuthorization = basicAuthorization(info.clients.web.id, info.clients.web.secret);
  const clientCredentialsForm = formEncode({
    grant_type: 'client_credentials',
    scope: RESOURCE_SCOPE,
    resource: RESOURCE,
  });

  console.log(
    `Gatehouse on SQLite (pid ${info.pid}): ${TOKENS.toLocaleString('en')} tokens, ${CONCURRENCY} concurrent requests, a refresh every ${REFRESH_EVERY}`,
  );
  console.log('elapsed  tokens      rate/s  RSS MB');
  const started = Date.now();
  let issued = 0;
  let next = 0;
  let peak = 0;
  const sample = (): void => {
    const rss = processRss(info.pid);
    if (rss === undefined) return;
    peak = Math.max(peak, rss);
    samples.push({ seconds: (Date.now() - started) / 1000, tokens: issued, rssBytes: rss });
  };
  const print = (): void => {
    const last = samples.at(-1);
    if (!last) return;
    const rate = last.seconds > 0 ? Math.round(last.tokens / last.seconds) : 0;
    console.log(
      `${last.seconds.toFixed(0).padStart(6)} s  ${String(last.tokens).padStart(9)}  ${String(rate).padStart(7)}  ${MB(last.rssBytes).padStart(6)}`,
    );
  };
  sample();
  print();
  const sampler = setInterval(sample, 1000);
  const printer = setInterval(print, 10_000);

  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      for (;;) {
        const n = next++;
        if (n >= TOKENS) return;
        if (n % REFRESH_EVERY === REFRESH_EVERY - 1) {
          // RFC 6749 §6 with rotation: the family of this worker moves on by one token. Workers
          // share the families (at most 8), so each family's refreshes go one after the other, as
          // one client's would: two workers presenting the same token at once, one of them only
          // after the other had rotated its successor too, would be reuse (RFC 9700 §4.14.2), and
          // Gatehouse rightly revokes the family.
          const family = worker % families.length;
          const refreshed = familyTurns[family]!.then(async () => {
            const body = await post(
              info.endpoints.token,
              formEncode({ grant_type: 'refresh_token', refresh_token: families[family]! }),
              webAuthorization,
            );
            families[family] = body['refresh_token'] as string;
          });
          familyTurns[family] = refreshed.catch(() => undefined);
          await refreshed;
        } else {
          await post(info.endpoints.token, clientCredentialsForm, serviceAuthorization);
        }
        issued++;
      }
    }),
  );
  clearInterval(sampler);
  clearInterval(printer);
  sample();
  print();
  const seconds = (Date.now() - started) / 1000;
  const final = samples.at(-1)!.rssBytes;
  const verdict = peak < RSS_BOUND_BYTES ? 'within' : 'OVER';
  console.log(
    `\n${issued.toLocaleString('en')} tokens in ${seconds.toFixed(0)} s (${Math.round(issued / seconds)}/s). RSS: peak ${MB(peak)} MB, final ${MB(final)} MB: ${verdict} the 300 MB bound.`,
  );
  const out = args.get('out');
  if (out) {
    writeFileSync(
      out,
      JSON.stringify(
        {
          tokens: issued,
          concurrency: CONCURRENCY,
          refreshEvery: REFRESH_EVERY,
          seconds,
          peakRssBytes: peak,
          finalRssBytes: final,
          samples,
        },
        null,
        2,
      ),
    );
    console.log(`Samples written to ${out}`);
  }
  if (peak >= RSS_BOUND_BYTES) process.exitCode = 1;
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
