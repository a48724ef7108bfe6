/**
 * Where the server CPU of one code flow goes (issue 14's per-flow CPU budget): one flow with
 * an existing session and remembered consent (`GET /authorize` → code, `POST /token` with the
 * PKCE verifier → access token, ID token, refresh token), one request at a time, on SQLite (a
 * WAL file in a temp directory, as `npm run bench` uses), split into:
 *
 * - **end to end**: the real server (bench/servers/gatehouse.ts, its own process, the same
 *   configuration as `npm run bench`), its CPU per request read from /proc (every thread's
 *   on-CPU nanoseconds, /proc/<pid>/task/<tid>/schedstat) around N sequential requests;
 * - **HTTP exchange**: the same two requests answered by the bare Fastify server
 *   (bench/servers/fastify-bare.ts: a fixed redirect and a fixed token JSON), measured the same
 *   way: the socket, HTTP parse, routing and reply that any Fastify server pays;
 * - **store calls**: in the same server started with `--time-store`, the CPU of every call of the
 *   store's repositories and of `store.transaction` (the redemption; the calls on its own store
 *   apart, and its BEGIN and COMMIT as SQLite statements timed by `--count-statements`), per
 *   request, in separate runs (the timing itself costs a little);
 * - **request logs**: the same server with logging off (`--no-request-log`), measured like the
 *   end to end: the difference is what the flow's eight log lines cost (pino's serialization, the
 *   batched writes to stdout, src/http/logging.ts);
 * - **signatures and hashes**: src/core/keys/jws-signer.ts signCompactJws (ES256, node:crypto,
 *   synchronous) and src/core/secrets.ts sha256Base64Url(randomToken()), in this process with
 *   process.cpuUsage, as bench/floor.ts measures;
 * - **rest**: end to end minus all of the above: the handlers' own work (parameter checks,
 *   client authentication, cookies, claims, audit events, metrics, JSON).
 *
 * Every number is the median over the rounds. It prints a markdown table.
 *
 *   node --import tsx bench/budget.ts [--flows 300] [--rounds 5] [--iterations 3000] [--node24 [--node-cache DIR]]
 *
 * `--node24`: the whole measurement on Node 24 (the runtime `npm run bench -- --node24` prepares,
 * bench/lib/node-runtime.ts): this script runs itself again on it, and starts the servers on it.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signCompactJws } from '../src/core/keys/jws-signer.js';
import { randomToken, sha256Base64Url } from '../src/core/secrets.js';
import { parseArgs, REDIRECT_URI, RESOURCE, type ServerInfo } from './lib/common.js';
import { basicAuthorization, browse, CookieJar, formEncode, send } from './lib/http.js';
import { prepareNodeRuntime } from './lib/node-runtime.js';
import { startServer, stopAllChildren, type RunningServer } from './lib/processes.js';
import { authorizeUrl, type Browser, codeFromRedirect, newPkce, redeemCode, signIn } from './lib/scenarios.js';
import { NO_REQUEST, STATEMENTS_PREFIX, type StatementReport } from './lib/statement-counter.js';

const args = parseArgs(process.argv.slice(2));
const flows = Number(args.get('flows') ?? 300);
const rounds = Number(args.get('rounds') ?? 5);
const iterations = Number(args.get('iterations') ?? 3000);
if (!(Number.isSafeInteger(flows) && flows >= 20 && Number.isSafeInteger(rounds) && rounds >= 1))
  throw new Error('need --flows >= 20 and --rounds >= 1');
if (!(Number.isSafeInteger(iterations) && iterations >= 100)) throw new Error('--iterations must be at least 100');

const runtime = args.has('node24')
  ? prepareNodeRuntime(24, args.get('node-cache'), (line) => process.stderr.write(`${line}\n`))
  : undefined;
if (runtime && process.version !== runtime.version) {
  // Run again on Node 24, with its better-sqlite3, so that the in-process rows are Node 24's too.
  const again = spawnSync(
    runtime.execPath,
    [...runtime.nodeArgs, '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(again.status ?? 1);
}

const AUTHORIZE = 'GET /authorize';
const TOKEN = 'POST /token';
/** Per flow: the SHA-256 + 32-byte CSPRNG draws bench/floor.ts counts (code, refresh token, session id, at_hash). */
const HASHES_PER_FLOW = 4;
/** Per flow: the access token (RFC 9068) and the ID token (OIDC Core §3.1.3.3). */
const SIGNATURES_PER_FLOW = 2;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** On-CPU time of every thread of `pid`, in µs (schedstat: nanoseconds, unlike stat's ticks). */
function processCpuUs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return ns / 1000;
}

/** The server's CPU µs per call of `request`, over `count` sequential calls. */
async function serverCpuPerCall(server: RunningServer, count: number, request: (index: number) => Promise<void>) {
  const before = processCpuUs(server.info.pid);
  for (let index = 0; index < count; index++) await request(index);
  return (processCpuUs(server.info.pid) - before) / count;
}

/** One flow's first request: GET /authorize with the session cookie, returning the code. */
async function authorize(server: ServerInfo, browser: Browser): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = newPkce();
  const state = randomToken(16);
  const url = authorizeUrl(server, { state, nonce: randomToken(16), challenge });
  const answer = await browse(browser.jar, url);
  return { code: codeFromRedirect(answer, url, server, state), verifier };
}

/** The bare server's token answer, for the same request as the code redemption. */
async function bareToken(server: ServerInfo): Promise<void> {
  const answer = await send(server.endpoints.token, {
    headers: { authorization: basicAuthorization(server.clients.web.id, server.clients.web.secret) },
    form: formEncode({
      grant_type: 'authorization_code',
      code: randomToken(32),
      redirect_uri: REDIRECT_URI,
      code_verifier: randomToken(32),
    }),
  });
  if (answer.status !== 200) throw new Error(`bare token: status ${answer.status}`);
}

/** CPU µs per call of a synchronous operation in this process (all threads), after a warm-up. */
function cpuMicrosPerCall(operation: () => unknown): number {
  for (let index = 0; index < iterations / 10; index++) operation();
  const before = process.cpuUsage();
  for (let index = 0; index < iterations; index++) operation();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / iterations;
}

async function storeReport(server: RunningServer, run: () => Promise<void>): Promise<StatementReport> {
  let stdout = '';
  const listener = (chunk: string) => (stdout += chunk);
  server.child.stdout!.on('data', listener);
  try {
    server.child.kill('SIGUSR1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await run();
    // A buffered audit write after the last answer is still the flows' work.
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.child.kill('SIGUSR2');
    for (;;) {
      const line = stdout.split('\n').find((candidate) => candidate.startsWith(STATEMENTS_PREFIX));
      if (line) return JSON.parse(line.slice(STATEMENTS_PREFIX.length)) as StatementReport;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    server.child.stdout!.off('data', listener);
  }
}

const tempDir = mkdtempSync(join(tmpdir(), 'gatehouse-budget-'));
const servers: RunningServer[] = [];
try {
  const gatehouse = await startServer(
    'servers/gatehouse.ts',
    ['--database', `sqlite:${join(tempDir, 'gatehouse.db')}`, '--time-store', '--count-statements'],
    { runtime },
  );
  servers.push(gatehouse);
  const bare = await startServer('servers/fastify-bare.ts', [], { runtime });
  servers.push(bare);
  const quiet = await startServer(
    'servers/gatehouse.ts',
    ['--database', `sqlite:${join(tempDir, 'gatehouse-quiet.db')}`, '--no-request-log'],
    { runtime },
  );
  servers.push(quiet);
  const gh = gatehouse.info;

  const { browser, code, verifier } = await signIn(gh, 0);
  await redeemCode(gh, code, verifier);
  const quietSignIn = await signIn(quiet.info, 0);
  await redeemCode(quiet.info, quietSignIn.code, quietSignIn.verifier);
  const quietFlow = async () => {
    const issued = await authorize(quiet.info, quietSignIn.browser);
    await redeemCode(quiet.info, issued.code, issued.verifier);
  };
  const bareBrowser: Browser = { jar: new CookieJar(), issuerOrigin: new URL(bare.info.issuer).origin };

  const flow = async () => {
    const issued = await authorize(gh, browser);
    await redeemCode(gh, issued.code, issued.verifier);
  };
  // Warm-up: JIT, caches, the key ring, the SQLite page cache.
  for (let index = 0; index < Math.min(200, flows); index++) {
    await flow();
    await quietFlow();
    await authorize(bare.info, bareBrowser);
    await bareToken(bare.info);
  }

  const samples = {
    authorize: [] as number[],
    token: [] as number[],
    bareAuthorize: [] as number[],
    bareToken: [] as number[],
    quiet: [] as number[],
  };
  /** Per round: label → µs per flow (store calls), and calls per flow. */
  const storeRounds: Map<string, { us: number; calls: number }>[] = [];
  for (let round = 0; round < rounds; round++) {
    const issued: { code: string; verifier: string }[] = [];
    samples.authorize.push(
      await serverCpuPerCall(gatehouse, flows, async () => void issued.push(await authorize(gh, browser))),
    );
    samples.token.push(
      await serverCpuPerCall(gatehouse, flows, async (index) => {
        await redeemCode(gh, issued[index]!.code, issued[index]!.verifier);
      }),
    );
    samples.bareAuthorize.push(
      await serverCpuPerCall(bare, flows, async () => void (await authorize(bare.info, bareBrowser))),
    );
    samples.bareToken.push(await serverCpuPerCall(bare, flows, () => bareToken(bare.info)));
    samples.quiet.push(await serverCpuPerCall(quiet, flows, quietFlow));
    const report = await storeReport(gatehouse, async () => {
      for (let index = 0; index < flows; index++) await flow();
    });
    const perFlow = new Map<string, { us: number; calls: number }>();
    for (const [route, methods] of Object.entries(report.store)) {
      for (const [method, entry] of Object.entries(methods))
        perFlow.set(`${route}|${method}`, { us: entry.ns / 1000 / flows, calls: entry.count / flows });
    }
    // A redemption in store.transaction: its BEGIN and COMMIT are SQLite statements (their time in
    // SQLite), not store calls. Without one (codes.redeem, a unit of the group commit), they run
    // within that call and are in its row already.
    if (report.store[TOKEN]?.['transaction'] !== undefined) {
      const boundaries = Object.entries(report.statements[TOKEN] ?? {}).filter(([sql]) =>
        /^\s*(begin|commit)\b/i.test(sql),
      );
      perFlow.set(`${TOKEN}|transaction:begin-commit`, {
        us: boundaries.reduce((sum, [, entry]) => sum + (entry.cpuNs ?? entry.ns), 0) / 1000 / flows,
        calls: boundaries.reduce((sum, [, entry]) => sum + entry.count, 0) / flows,
      });
    }
    storeRounds.push(perFlow);
    process.stderr.write(
      `round ${round + 1}/${rounds}: authorize ${samples.authorize.at(-1)!.toFixed(0)} µs, token ${samples.token.at(-1)!.toFixed(0)} µs, ` +
        `bare ${samples.bareAuthorize.at(-1)!.toFixed(0)} + ${samples.bareToken.at(-1)!.toFixed(0)} µs\n`,
    );
  }

  // In this process, with the children idle: the signatures and the hashes.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = { kid: 'budget-1', alg: 'ES256' as const, privateKey };
  const now = Math.floor(Date.now() / 1000);
  const accessClaims = {
    iss: gh.issuer,
    sub: 'user-0',
    aud: RESOURCE,
    client_id: gh.clients.web.id,
    scope: 'openid offline_access api:read',
    iat: now,
    exp: now + 3600,
    jti: randomToken(16),
  };
  const idClaims = {
    iss: gh.issuer,
    sub: 'user-0',
    aud: gh.clients.web.id,
    nonce: randomToken(16),
    at_hash: randomToken(16),
    sid: randomToken(16),
    auth_time: now,
    iat: now,
    exp: now + 3600,
  };
  const signatureRounds: number[] = [];
  const hashRounds: number[] = [];
  for (let round = 0; round < rounds; round++) {
    signatureRounds.push(
      cpuMicrosPerCall(() => signCompactJws(accessClaims, key, { typ: 'at+jwt' })) / 2 +
        cpuMicrosPerCall(() => signCompactJws(idClaims, key)) / 2,
    );
    hashRounds.push(cpuMicrosPerCall(() => sha256Base64Url(randomToken(32))));
  }

  const authorizeUs = median(samples.authorize);
  const tokenUs = median(samples.token);
  const total = authorizeUs + tokenUs;
  const http = median(samples.bareAuthorize) + median(samples.bareToken);
  const signatures = SIGNATURES_PER_FLOW * median(signatureRounds);
  const hashes = HASHES_PER_FLOW * median(hashRounds);
  const logs = total - median(samples.quiet);

  const labels = [...new Set(storeRounds.flatMap((round) => [...round.keys()]))];
  // Authorize, then token (the transaction's store calls, its BEGIN and COMMIT, its own work), then the rest.
  const order = (label: string) => {
    const [route, method] = label.split('|') as [string, string];
    const within = method.startsWith('transaction>')
      ? 1
      : method === 'transaction:begin-commit'
        ? 2
        : method === 'transaction'
          ? 3
          : 4;
    return ([AUTHORIZE, TOKEN].indexOf(route) >>> 0) * 10 + within;
  };
  labels.sort((a, b) => order(a) - order(b));
  const storeRows = labels.map((label) => {
    const [route, method] = label.split('|') as [string, string];
    return {
      route,
      method,
      us: median(storeRounds.map((round) => round.get(label)?.us ?? 0)),
      calls: median(storeRounds.map((round) => round.get(label)?.calls ?? 0)),
    };
  });

  const fmt = (us: number) => us.toFixed(0);
  const share = (us: number) => `${((us / total) * 100).toFixed(0)}%`;
  const lines = [
    `Server CPU per code flow (Node ${process.version}, SQLite WAL file, one request at a time; ${rounds} round${rounds === 1 ? '' : 's'} of ${flows} flows, medians; ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}):`,
    '',
    '| step | µs per flow | share | measured |',
    '|---|--:|--:|---|',
    `| HTTP exchange × 2: socket, parse, routing, reply (bare Fastify: ${fmt(median(samples.bareAuthorize))} + ${fmt(median(samples.bareToken))}) | ${fmt(http)} | ${share(http)} | bench/servers/fastify-bare.ts, same requests, its CPU from /proc |`,
  ];
  // A transaction's row is what its own store calls (the `transaction>` rows) leave of it.
  for (const row of storeRows)
    if (row.method === 'transaction')
      row.us -= storeRows
        .filter((inner) => inner.route === row.route && inner.method.startsWith('transaction'))
        .filter((inner) => inner !== row)
        .reduce((sum, inner) => sum + inner.us, 0);
  const store = storeRows.reduce((sum, row) => sum + row.us, 0);
  const rest = total - http - store - signatures - hashes - logs;
  for (const row of storeRows) {
    if (row.calls < 0.005 && row.us < 0.5) continue;
    const where = row.route === NO_REQUEST ? 'outside requests' : row.route;
    const what =
      row.method === 'transaction'
        ? "store.transaction's own work beyond its store calls, BEGIN and COMMIT (Kysely's transaction and statement preparation, the transaction's store, the redemption callback's checks and token preparation)"
        : row.method === 'transaction:begin-commit'
          ? 'in the transaction: BEGIN and COMMIT (the commit writes the WAL)'
          : row.method.startsWith('transaction>')
            ? `in the transaction: store.${row.method.slice('transaction>'.length)}`
            : `store.${row.method}`;
    const how =
      row.method === 'transaction:begin-commit'
        ? 'CPU during the two statements, in the server (--count-statements)'
        : row.method === 'transaction'
          ? "the call's CPU in the server (--time-store), minus the rows in the transaction"
          : "the call's CPU in the server (--time-store)";
    lines.push(
      `| ${where}: ${what} (${row.calls.toFixed(row.calls >= 1 ? 0 : 2)}×) | ${fmt(row.us)} | ${share(row.us)} | ${how} |`,
    );
  }
  lines.push(
    `| ${SIGNATURES_PER_FLOW} × ES256 signature, signCompactJws (${median(signatureRounds).toFixed(1)} each) | ${fmt(signatures)} | ${share(signatures)} | in isolation, process.cpuUsage |`,
    `| ${HASHES_PER_FLOW} × SHA-256 + 32-byte CSPRNG draw (${median(hashRounds).toFixed(1)} each) | ${fmt(hashes)} | ${share(hashes)} | in isolation, process.cpuUsage |`,
    `| request logs: 8 lines per flow (pino's serialization, batched writes to stdout; the same server without logs: ${fmt(median(samples.quiet))}) | ${fmt(logs)} | ${share(logs)} | end to end minus the same flows with --no-request-log, its CPU from /proc |`,
    `| rest: the handlers' own work (checks, client authentication, cookies, claims, audit, metrics, JSON) | ${fmt(rest)} | ${share(rest)} | end to end minus the rows above |`,
    `| **total, end to end** (GET /authorize ${fmt(authorizeUs)} + POST /token ${fmt(tokenUs)}) | **${fmt(total)}** | 100% | bench/servers/gatehouse.ts, its CPU from /proc |`,
    '',
    `Spread over the rounds (min–max µs): authorize ${fmt(Math.min(...samples.authorize))}–${fmt(Math.max(...samples.authorize))}, ` +
      `token ${fmt(Math.min(...samples.token))}–${fmt(Math.max(...samples.token))}, ` +
      `bare ${fmt(Math.min(...samples.bareAuthorize) + Math.min(...samples.bareToken))}–${fmt(Math.max(...samples.bareAuthorize) + Math.max(...samples.bareToken))}, ` +
      `without logs ${fmt(Math.min(...samples.quiet))}–${fmt(Math.max(...samples.quiet))}.`,
  );
  console.log(lines.join('\n'));
} finally {
  for (const server of servers) await server.stop();
  stopAllChildren();
  rmSync(tempDir, { recursive: true, force: true });
}
