/**
 * Cookie handling per request: Gatehouse's own helpers (src/http/cookies.ts) against
 * @fastify/cookie (which parses with the `cookie` package), measured in this process with
 * process.cpuUsage, in interleaved rounds (the median is reported):
 *
 * - parse: a browser's Cookie header on the issuer's host (the two Gatehouse cookies among a
 *   few unrelated ones), read into a name -> value lookup;
 * - serialize: the two Set-Cookie values a login and the authorization request set (session and
 *   browser cookie: Path=/, HttpOnly, SameSite=Lax, Max-Age, Secure);
 * - request: a Fastify route (through `inject`) that reads the session cookie and sets both
 *   cookies, and a cookieless route (like POST /token) that pays only the plugin's hooks.
 *
 *   node --import tsx bench/cookies.ts [--iterations 200000] [--requests 20000] [--rounds 5]
 */
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import { parseCookie, stringifySetCookie } from 'cookie';
import { BROWSER_COOKIE, SESSION_COOKIE, parseCookies, serializeCookie } from '../src/http/cookies.js';
import { parseArgs } from './lib/common.js';

const args = parseArgs(process.argv.slice(2));
const iterations = Number(args.get('iterations') ?? 200_000);
const requests = Number(args.get('requests') ?? 20_000);
const rounds = Number(args.get('rounds') ?? 5);

const SESSION_ID = 'Q2hhbmdlLXRoaXMtc2Vzc2lvbi1pZC1wbGVhc2UtMTIz';
const BROWSER_ID = 'YnJvd3Nlci1pZC1mb3ItdGhlLWJlbmNobWFyay0xMjM0';
const COOKIE_HEADER = `_ga=GA1.1.1234567890.1765000000; theme=dark; ${SESSION_COOKIE}=${SESSION_ID}; ${BROWSER_COOKIE}=${BROWSER_ID}; csrftoken=abcdefghijklmnopqrstuvwxyz012345`;
const SESSION_MAX_AGE = 8 * 3600;
const BROWSER_MAX_AGE = 365 * 24 * 3600;

let sink = 0;

/** CPU nanoseconds per call of a synchronous operation. */
function nanosPerCall(operation: () => unknown, calls: number): number {
  for (let i = 0; i < calls / 10; i++) operation();
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) operation();
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / calls;
}

/** CPU microseconds per injected request (Fastify's full request path, no socket). */
async function microsPerRequest(
  app: FastifyInstance,
  options: { method: 'GET' | 'POST'; url: string; headers: Record<string, string> },
  calls: number,
): Promise<number> {
  // Yielding to the event loop now and then lets the finished requests' resources go.
  for (let i = 0; i < calls / 10; i++) {
    await app.inject(options);
    if (i % 100 === 0) await new Promise(setImmediate);
  }
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) {
    sink += (await app.inject(options)).statusCode;
    if (i % 100 === 0) await new Promise(setImmediate);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

const helpers = {
  parse: () => {
    const cookies = parseCookies(COOKIE_HEADER);
    sink += (cookies.get(SESSION_COOKIE)?.length ?? 0) + (cookies.get(BROWSER_COOKIE)?.length ?? 0);
  },
  serialize: () => {
    sink += serializeCookie(SESSION_COOKIE, SESSION_ID, { secure: true, maxAgeSeconds: SESSION_MAX_AGE }).length;
    sink += serializeCookie(BROWSER_COOKIE, BROWSER_ID, { secure: true, maxAgeSeconds: BROWSER_MAX_AGE }).length;
  },
};
const library = {
  // What @fastify/cookie's onRequest hook does (fastify.parseCookie is cookie's parseCookie).
  parse: () => {
    const cookies = parseCookie(COOKIE_HEADER);
    sink += (cookies[SESSION_COOKIE]?.length ?? 0) + (cookies[BROWSER_COOKIE]?.length ?? 0);
  },
  // What its onSend hook does for each reply.setCookie (fastify.serializeCookie).
  serialize: () => {
    sink += stringifySetCookie({
      name: SESSION_COOKIE,
      value: SESSION_ID,
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      maxAge: SESSION_MAX_AGE,
      secure: true,
    }).length;
    sink += stringifySetCookie({
      name: BROWSER_COOKIE,
      value: BROWSER_ID,
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      maxAge: BROWSER_MAX_AGE,
      secure: true,
    }).length;
  },
};

async function helperApp(): Promise<FastifyInstance> {
  const app = Fastify();
  app.get('/login', async (request, reply) => {
    const cookies = parseCookies(request.headers.cookie);
    reply.header('set-cookie', [
      serializeCookie(SESSION_COOKIE, SESSION_ID, { secure: true, maxAgeSeconds: SESSION_MAX_AGE }),
      serializeCookie(BROWSER_COOKIE, cookies.get(BROWSER_COOKIE) ?? BROWSER_ID, {
        secure: true,
        maxAgeSeconds: BROWSER_MAX_AGE,
      }),
    ]);
    return 'ok';
  });
  app.post('/token', async () => 'ok');
  await app.ready();
  return app;
}

/** The same attributes as serializeCookie's, for @fastify/cookie. */
function pluginCookieOptions(maxAge: number) {
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, maxAge, secure: true };
}

async function pluginApp(): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(fastifyCookie);
  app.get('/login', async (request, reply) => {
    const cookies = request.cookies;
    reply.setCookie(SESSION_COOKIE, SESSION_ID, pluginCookieOptions(SESSION_MAX_AGE));
    reply.setCookie(BROWSER_COOKIE, cookies[BROWSER_COOKIE] ?? BROWSER_ID, pluginCookieOptions(BROWSER_MAX_AGE));
    return 'ok';
  });
  app.post('/token', async () => 'ok');
  await app.ready();
  return app;
}

const apps = { helpers: await helperApp(), plugin: await pluginApp() };
const login = { method: 'GET' as const, url: '/login', headers: { cookie: COOKIE_HEADER } };
const token = { method: 'POST' as const, url: '/token', headers: {} };
const samples: Record<string, number[]> = {};
const record = (name: string, value: number) => {
  samples[name] ??= [];
  samples[name].push(value);
  if (process.env['BENCH_VERBOSE'])
    console.error(name, value.toFixed(2), Math.round(process.memoryUsage.rss() / 1e6), 'MB');
};
for (let round = 0; round < rounds; round++) {
  record('parse, helpers (ns)', nanosPerCall(helpers.parse, iterations));
  record('parse, @fastify/cookie (ns)', nanosPerCall(library.parse, iterations));
  record('serialize 2, helpers (ns)', nanosPerCall(helpers.serialize, iterations));
  record('serialize 2, @fastify/cookie (ns)', nanosPerCall(library.serialize, iterations));
  record('GET /login request, helpers (µs)', await microsPerRequest(apps.helpers, login, requests));
  record('GET /login request, @fastify/cookie (µs)', await microsPerRequest(apps.plugin, login, requests));
  record('POST /token request, helpers (µs)', await microsPerRequest(apps.helpers, token, requests));
  record('POST /token request, @fastify/cookie (µs)', await microsPerRequest(apps.plugin, token, requests));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const [name, values] of Object.entries(samples)) {
  console.log(
    `${name.padEnd(42)} median ${median(values)
      .toFixed(name.endsWith('(ns)') ? 0 : 2)
      .padStart(8)}   rounds ${values.map((v) => v.toFixed(name.endsWith('(ns)') ? 0 : 2)).join(' ')}`,
  );
}
if (sink === 0) console.log('');
await apps.helpers.close();
await apps.plugin.close();
