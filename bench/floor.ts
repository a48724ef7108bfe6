/**
 * The floor under the server CPU per complete code flow: what the unavoidable parts of a flow
 * cost on this machine when nothing else is done, measured in this process with
 * process.cpuUsage (all threads, as the benchmark's server CPU is):
 *
 * - two ES256 signatures through jose (the access token, RFC 9068, and the ID token, OIDC Core
 *   §3.1.3.3); jose signs with WebCrypto, on Node's thread pool;
 * - two durable SQLite commits on a WAL file with Gatehouse's schema, synchronous=NORMAL as the
 *   server opens it (the authorization writes the grant and code; the redemption marks the code
 *   used and writes the tokens): one insert each, the least a commit carries;
 * - four SHA-256 hashes of 43-character tokens (code, refresh token, session id, at_hash) and four
 *   32-byte CSPRNG draws, the server's own way (src/core/secrets.ts);
 * - for reference, not part of the sum: the same flow's writes on Gatehouse's own schema through
 *   its store, a floor of this schema (its indexes and foreign keys), not of the problem.
 *
 * The HTTP part (two exchanges per flow) is the bare Fastify ceiling's server CPU per flow in the
 * benchmark table (`npm run bench`). Their sum is a lower bound for any server that signs its
 * tokens with jose and stores them durably; the issue's goal is 400 µs.
 *
 * PostgreSQL (`--database`, default the machine's test database; skipped with a note when it is
 * unreachable, `--no-postgres` skips it): the same for a server whose store is PostgreSQL, where
 * the issue's target counts the database's CPU too. Each statement is a round trip: a durable
 * one-row commit (an INSERT on its own, a named prepared statement, synchronous_commit as the
 * server has it) and a read by primary key, measured in this process (pg's side, process.cpuUsage)
 * and in the database (every `postgres` process's CPU from /proc, bench/lib/proc.ts, as the
 * benchmark measures "DB CPU"), one at a time and 32 in flight over a pool of 10 connections
 * (Gatehouse's pool size), the lower taken. A flow cannot do with fewer than two commits (one per
 * request); for reference, Gatehouse's own store calls of a flow on its schema (the session with
 * its consent, grant and code, the code's read, the redemption) are measured the same way.
 *
 *   node --import tsx bench/floor.ts [--iterations 5000] [--database postgres://...] [--no-postgres]
 */
import { KeyObject, randomBytes, sign as nodeSign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateKeyPair, SignJWT } from 'jose';
import pg from 'pg';
import { randomToken, sha256Base64Url } from '../src/core/secrets.js';
import { openStore } from '../src/store/open-store.js';
import { parseArgs } from './lib/common.js';
import { clockTicksPerSecond, postgresCpuTicks } from './lib/proc.js';
import {
  makeClient,
  makeCode,
  makeGrant,
  makeRefreshToken,
  makeSession,
  makeToken,
  makeUser,
} from '../test/helpers/store-records.js';

const args = parseArgs(process.argv.slice(2));
const iterations = Number(args.get('iterations') ?? 5000);
if (!Number.isSafeInteger(iterations) || iterations < 100)
  throw new Error('--iterations must be an integer of at least 100');

/**
 * CPU microseconds per call of `operation`, after a warm-up of a tenth as many calls, with
 * `concurrency` calls in flight (asynchronous work such as WebCrypto's thread-pool jobs costs
 * less per call when several overlap, as they do in a loaded server).
 */
async function cpuMicrosPerCall(operation: () => unknown, concurrency = 1): Promise<number> {
  const run = async (calls: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < calls) await operation();
      }),
    );
  };
  await run(Math.ceil(iterations / 10));
  const before = process.cpuUsage();
  await run(iterations);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / iterations;
}

const { privateKey } = await generateKeyPair('ES256');
const signJwt = () =>
  new SignJWT({ client_id: 'web', scope: 'openid offline_access api:read', auth_time: 1_765_000_000 })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
    .setIssuer('http://127.0.0.1:4000')
    .setSubject('user-1')
    .setAudience('https://api.example')
    .setIssuedAt()
    .setExpirationTime('1h')
    .setJti(randomToken(16))
    .sign(privateKey);
// The lower of one at a time and 32 in flight (the benchmark's concurrency): a floor.
const signOneAtATime = await cpuMicrosPerCall(signJwt);
const signConcurrent = await cpuMicrosPerCall(signJwt, 32);
const sign = Math.min(signOneAtATime, signConcurrent);

// For reference only (Gatehouse signs with jose): the same ES256 signature with node:crypto,
// synchronously on the main thread, shows what WebCrypto's asynchronous jobs add.
const signingInput = Buffer.from(
  'eyJhbGciOiJFUzI1NiJ9.' + Buffer.from(JSON.stringify({ sub: 'user-1', scope: 'openid' })).toString('base64url'),
);
const keyObject = KeyObject.from(privateKey);
const nodeSignature = await cpuMicrosPerCall(() =>
  nodeSign('sha256', signingInput, { key: keyObject, dsaEncoding: 'ieee-p1363' }),
);

/** The values of the one access_tokens row a floor commit writes (SQLite and PostgreSQL alike). */
const oneRowValues = (jti: string) => [
  jti,
  'grant',
  'flow',
  'web',
  'user-1',
  '["openid"]',
  '["https://api.example"]',
  Date.now(),
  Date.now() + 3_600_000,
  null,
];

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-floor-'));
let commit: number;
try {
  const path = join(dir, 'gatehouse.db');
  const store = await openStore(`sqlite:${path}`);
  await store.migrate();
  await store.close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // The floor of a commit, without the foreign-key lookups the server's inserts also pay.
  db.pragma('foreign_keys = OFF');
  const insert = db.prepare(
    'insert into "access_tokens" ("jti", "grant_id", "flow_id", "client_id", "user_id", "scope", "audience", "created_at", "expires_at", "revoked_at") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  commit = await cpuMicrosPerCall(() => insert.run(...oneRowValues(randomToken(16))));
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// The writes of one code flow on Gatehouse's own schema, through its store (src/store): the grant
// and code at the authorization endpoint (codes.issue, one commit), the redemption with its
// access and refresh tokens (codes.redeem, one commit); foreign keys and every index included.
// Not a floor of the problem, but of this schema: what the flow's SQLite work costs when
// nothing else runs (the server pays it plus the reads).
const storeDir = mkdtempSync(join(tmpdir(), 'gatehouse-floor-store-'));
let storeWrites: number;
try {
  const store = await openStore(`sqlite:${join(storeDir, 'gatehouse.db')}`);
  await store.migrate();
  const client = makeClient();
  const user = makeUser();
  await store.clients.create(client);
  await store.users.create(user);
  storeWrites = await cpuMicrosPerCall(async () => {
    const grant = makeGrant(client.clientId, user.id);
    const code = makeCode(grant);
    await store.codes.issue(grant, code);
    await store.codes.redeem(code.codeHash, code.createdAt, {
      accessToken: makeToken(client.clientId, grant),
      refreshToken: makeRefreshToken(grant),
    });
  });
  await store.close();
} finally {
  rmSync(storeDir, { recursive: true, force: true });
}

const hashAndRandom = await cpuMicrosPerCall(() => sha256Base64Url(randomToken(32)));

const perFlow = { signatures: 2 * sign, commits: 2 * commit, hashes: 4 * hashAndRandom };
const total = perFlow.signatures + perFlow.commits + perFlow.hashes;
const fmt = (micros: number) => `${micros.toFixed(0).padStart(5)} µs`;
console.log(
  `Floor of the server CPU per code flow beyond HTTP (Node ${process.version}, ${iterations} iterations each):`,
);
console.log(
  `  2 × ES256 signature (jose)     ${fmt(perFlow.signatures)}   (${sign.toFixed(1)} µs each; one at a time ${signOneAtATime.toFixed(1)}, 32 in flight ${signConcurrent.toFixed(1)})`,
);
console.log(`  2 × SQLite WAL commit          ${fmt(perFlow.commits)}   (${commit.toFixed(1)} µs each)`);
console.log(`  4 × SHA-256 + CSPRNG draw      ${fmt(perFlow.hashes)}   (${hashAndRandom.toFixed(1)} µs each)`);
console.log(`  sum                            ${fmt(total)}`);
console.log(
  `(For reference: one ES256 signature with node:crypto's synchronous sign: ${nodeSignature.toFixed(1)} µs.)`,
);
console.log(
  "Add the bare Fastify ceiling's server CPU per flow (two HTTP exchanges) from the benchmark table for the whole floor.",
);
console.log(
  `The same flow's writes on Gatehouse's schema, through its store (grant + code, one commit; code consumed + access and refresh token, one commit): ${storeWrites.toFixed(0)} µs.`,
);

// --- PostgreSQL ------------------------------------------------------------------------------

/**
 * Client CPU (this process) and database CPU (every `postgres` process) per call of
 * `operation`, with `concurrency` calls in flight; µs each. The database's share is read from
 * /proc, so other work on the same cluster during the run would count (run it on a quiet machine).
 */
let nextCall = 0;
async function clientAndDatabaseMicrosPerCall(
  operation: (index: number) => Promise<unknown>,
  concurrency: number,
): Promise<{ client: number; database: number }> {
  // Numbered across every measurement, so that each insert has a key of its own.
  const run = async (calls: number) => {
    const end = nextCall + calls;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (nextCall < end) await operation(nextCall++);
      }),
    );
  };
  await run(Math.ceil(iterations / 10));
  const microsPerTick = 1e6 / clockTicksPerSecond();
  const before = process.cpuUsage();
  const databaseBefore = postgresCpuTicks();
  await run(iterations);
  const used = process.cpuUsage(before);
  const database = ((postgresCpuTicks() - databaseBefore) * microsPerTick) / iterations;
  return { client: (used.user + used.system) / iterations, database };
}

type Split = { client: number; database: number };
const lower = (a: Split, b: Split): Split => (a.client + a.database <= b.client + b.database ? a : b);
const describe = (split: Split) =>
  `${fmt(split.client + split.database)}   (Gatehouse's process ${split.client.toFixed(0)} + database ${split.database.toFixed(0)})`;

async function postgresFloor(databaseUrl: string): Promise<void> {
  const schema = `gh_floor_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  try {
    await admin.connect();
  } catch (error) {
    console.log(`\nPostgreSQL: skipped, ${databaseUrl} is unreachable (${(error as Error).message}).`);
    return;
  }
  const synchronousCommit = (await admin.query<{ synchronous_commit: string }>('show synchronous_commit')).rows[0]!
    .synchronous_commit;
  const url = new URL(databaseUrl);
  url.searchParams.set('schema', schema);
  try {
    // Gatehouse's schema, then the floor's statements on its access_tokens table without its
    // foreign keys and indexes (a copy, as the SQLite floor turns foreign keys off).
    const migrator = await openStore(url.toString());
    await migrator.migrate();
    await migrator.close();
    await admin.query(`create table "${schema}".floor_rows (like "${schema}".access_tokens including defaults)`);
    await admin.query(`alter table "${schema}".floor_rows add primary key (jti)`);
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, options: `-c search_path=${schema}` });
    const insertText =
      'insert into "floor_rows" ("jti", "grant_id", "flow_id", "client_id", "user_id", "scope", "audience", "created_at", "expires_at", "revoked_at") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)';
    const insert = (index: number) =>
      pool.query({
        name: 'floor_insert',
        text: insertText,
        values: oneRowValues(`jti-${index}`),
      });
    const read = (index: number) =>
      pool.query({
        name: 'floor_read',
        text: 'select * from "floor_rows" where "jti" = $1',
        values: [`jti-${index % (2 * iterations)}`],
      });
    const commit = lower(
      await clientAndDatabaseMicrosPerCall(insert, 1),
      await clientAndDatabaseMicrosPerCall(insert, 32),
    );
    const readByKey = lower(
      await clientAndDatabaseMicrosPerCall(read, 1),
      await clientAndDatabaseMicrosPerCall(read, 32),
    );
    await pool.end();

    // The store calls of one code flow on Gatehouse's schema, through its store, in the order the
    // two endpoints make them (src/core/authorize, src/core/token/grants/authorization-code-grant.ts).
    const store = await openStore(url.toString());
    const client = makeClient();
    const user = makeUser();
    await store.clients.create(client);
    await store.users.create(user);
    const session = makeSession(user.id);
    await store.sessions.create(session);
    await store.consents.grant({
      userId: user.id,
      clientId: client.clientId,
      scopes: ['openid'],
      grantedAt: session.createdAt,
    });
    const flow = async () => {
      await store.sessions.getWithConsent(session.idHash, session.createdAt, client.clientId);
      const grant = makeGrant(client.clientId, user.id);
      const code = makeCode(grant);
      await store.codes.issue(grant, code);
      await store.codes.getForRedemption(code.codeHash);
      await store.codes.redeem(code.codeHash, code.createdAt, {
        accessToken: makeToken(client.clientId, grant),
        refreshToken: makeRefreshToken(grant),
      });
    };
    const storeFlow = lower(
      await clientAndDatabaseMicrosPerCall(flow, 1),
      await clientAndDatabaseMicrosPerCall(flow, 32),
    );
    await store.close();

    const floor = {
      signatures: perFlow.signatures,
      commits: 2 * (commit.client + commit.database),
      hashes: perFlow.hashes,
    };
    console.log(
      `\nPostgreSQL (${url.host}, synchronous_commit=${synchronousCommit}, pool of 10; the lower of one at a time and 32 in flight):`,
    );
    console.log(`  one-row commit, one round trip ${describe(commit)}`);
    console.log(`  read by primary key            ${describe(readByKey)}`);
    console.log(`  2 × ES256 signature (jose)     ${fmt(floor.signatures)}`);
    console.log(`  2 × one-row commit             ${fmt(floor.commits)}`);
    console.log(`  4 × SHA-256 + CSPRNG draw      ${fmt(floor.hashes)}`);
    console.log(`  sum                            ${fmt(floor.signatures + floor.commits + floor.hashes)}`);
    console.log(
      `The same flow's store calls on Gatehouse's schema, through its store (the session with its consent, grant + code, the code, the redemption): ${describe(storeFlow)}.`,
    );
  } finally {
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  }
}

if (args.get('no-postgres') !== 'true')
  await postgresFloor(args.get('database') ?? 'postgres://postgres@127.0.0.1:5432/test');
