/**
 * Pages written per operation on SQLite (issue 14: every page a commit writes to the WAL costs
 * ~15 µs): the store's own calls for an authorization (grant and code, CodeRepository.issue), a
 * code redemption (the code consumed, the first refresh token, the access token's record) and a
 * refresh token rotation (RFC 9700 §4.14.2: the token rotated, its successor, the access token's
 * record), as the token endpoint makes them, on a WAL file with Gatehouse's schema. Automatic
 * checkpoints are off, so the WAL only grows: the frames a commit appends are the pages it wrote.
 * The tables are filled first (`--warm` code flows, a third of them refreshed once), so that the
 * B-trees are several levels deep and new rows land on pages of their own as under load.
 *
 * The CPU column is the process's user + system time in those calls (statements, commits, the
 * store's JavaScript; no HTTP, no signing), per operation: what a store change saves, without
 * the HTTP benchmark's noise.
 *
 * `--group N` issues N operations of a kind together, so that they share one group commit
 * (src/store/group-commit.ts) as concurrent requests do: the pages are then per operation, the
 * group's frames over N. Grants, sessions' `sid` and access tokens' `jti` are made as Gatehouse
 * makes them (sortableId, time first), and codes' and refresh tokens' keys too (storedTokenKey:
 * the token's time, then its hash); `--ids random` makes them all random instead, to measure what
 * the time-ordered ids and keys save.
 *
 *   node --import tsx bench/pages.ts [--warm 20000] [--ops 1000] [--group 1] [--ids sortable|random]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { AuthorizationCode, Grant, RefreshTokenRecord } from '../src/store/records.js';
import { KyselyStore } from '../src/store/kysely-store.js';
import { openStore } from '../src/store/open-store.js';
import { parseArgs } from './lib/common.js';
import { makeClient } from '../test/helpers/store-records.js';
import { sortableId, storedTokenKey, timeOrderedToken } from '../src/core/secrets.js';

const args = parseArgs(process.argv.slice(2));
const WARM = Number(args.get('warm') ?? 20_000);
const OPS = Number(args.get('ops') ?? 1000);
const GROUP = Number(args.get('group') ?? 1);
const IDS = args.get('ids') ?? 'sortable';
if (IDS !== 'sortable' && IDS !== 'random') throw new Error('--ids is sortable or random');
for (const [name, value] of [
  ['warm', WARM],
  ['ops', OPS],
  ['group', GROUP],
] as const)
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
// A group rotates GROUP distinct families, made by the warm-up.
if (GROUP > WARM)
  throw new Error(`--group (${GROUP}) must not exceed --warm (${WARM}): a group rotates that many families`);

const DAY = 24 * 3600 * 1000;
const id = (prefix: string) => `${prefix}-${randomBytes(16).toString('base64url')}`;
/** An id Gatehouse makes with sortableId (grants, sid, jti). */
const rowId = (prefix: string) => (IDS === 'sortable' ? sortableId() : id(prefix));
/** The key a code or refresh token is stored under, as Gatehouse makes it (storedTokenKey of timeOrderedToken). */
const tokenKey = (prefix: string) => (IDS === 'sortable' ? storedTokenKey(timeOrderedToken()) : id(prefix));

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pages-'));
const path = join(dir, 'gatehouse.db');
const store = await openStore(`sqlite:${path}`);
try {
  await store.migrate();
  if (!(store instanceof KyselyStore)) throw new Error('expected the Kysely store');
  await sql`pragma wal_autocheckpoint = 0`.execute(store.db);
  const clientIds = [id('client'), id('client')];
  for (const clientId of clientIds) {
    await store.clients.create(makeClient({ clientId, scope: 'openid offline_access' }));
  }
  const userIds: string[] = [];
  for (let index = 0; index < 200; index++) {
    const userId = id('user');
    await store.users.create({
      id: userId,
      username: id('name'),
      passwordHash: 'hash',
      email: null,
      name: null,
      claims: {},
      createdAt: Date.now(),
    });
    userIds.push(userId);
  }

  let now = Date.now();
  /** The newest token of each family, to rotate. */
  const families: string[] = [];

  const authorize = async (): Promise<AuthorizationCode> => {
    now++;
    const grant: Grant = {
      id: rowId('grant'),
      flowId: id('flow'),
      clientId: clientIds[families.length % clientIds.length]!,
      userId: userIds[Math.floor(Math.random() * userIds.length)]!,
      scope: ['openid', 'offline_access'],
      sid: rowId('sid'),
      createdAt: now,
      revokedAt: null,
    };
    const code: AuthorizationCode = {
      codeHash: tokenKey('code'),
      grantId: grant.id,
      flowId: grant.flowId,
      clientId: grant.clientId,
      userId: grant.userId!,
      redirectUri: 'https://app.example/cb',
      redirectUriProvided: true,
      scope: grant.scope,
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      codeChallengeMethod: 'S256',
      nonce: null,
      resources: [],
      authTime: now,
      createdAt: now,
      expiresAt: now + 60_000,
      consumedAt: null,
    };
    await store.codes.issue(grant, code);
    return code;
  };

  const accessToken = (token: Pick<RefreshTokenRecord, 'grantId' | 'flowId' | 'clientId' | 'userId' | 'scope'>) => ({
    jti: rowId('jti'),
    grantId: token.grantId,
    flowId: token.flowId,
    clientId: token.clientId,
    userId: token.userId,
    scope: token.scope,
    audience: ['https://api.example/'],
    createdAt: now,
    expiresAt: now + 3600_000,
    revokedAt: null,
  });

  // The token endpoint's calls: one read, then one atomic step with the tokens issued.
  const redeem = async (code: AuthorizationCode): Promise<void> => {
    now++;
    if (!(await store.codes.getForRedemption(code.codeHash))) throw new Error('code lost');
    const token: RefreshTokenRecord = {
      tokenHash: tokenKey('refresh'),
      grantId: code.grantId,
      flowId: code.flowId,
      clientId: code.clientId,
      userId: code.userId,
      scope: code.scope,
      resources: code.resources,
      authTime: code.authTime,
      createdAt: now,
      expiresAt: now + 14 * DAY,
      familyExpiresAt: now + 30 * DAY,
      rotatedAt: null,
      successorHash: null,
      successorEncrypted: null,
    };
    const result = await store.codes.redeem(code.codeHash, now, {
      accessToken: accessToken(code),
      refreshToken: token,
    });
    if (result.status !== 'redeemed') throw new Error(`redemption: ${result.status}`);
    families.push(token.tokenHash);
  };

  const rotate = async (family: number): Promise<void> => {
    now++;
    const stored = (await store.refreshTokens.getForRotation(families[family]!))?.token;
    if (!stored) throw new Error('family lost');
    const successor: RefreshTokenRecord = {
      ...stored,
      tokenHash: tokenKey('refresh'),
      createdAt: now,
      expiresAt: Math.min(now + 14 * DAY, stored.familyExpiresAt),
      rotatedAt: null,
      successorHash: null,
      successorEncrypted: null,
    };
    // About the size of a sealed successor (compact JWE, dir + A256GCM).
    const sealed = `eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..${randomBytes(90).toString('base64url')}`;
    const result = await store.refreshTokens.rotate(stored.tokenHash, successor, sealed, now, accessToken(stored));
    if (result.status !== 'rotated') throw new Error(`rotation: ${result.status}`);
    families[family] = successor.tokenHash;
  };

  for (let index = 0; index < WARM; index++) {
    await redeem(await authorize());
    if (index % 3 === 0) await rotate(Math.floor(Math.random() * families.length));
  }
  await sql`pragma wal_checkpoint(TRUNCATE)`.execute(store.db);
  const { rows } = await sql<{ page_size: number }>`pragma page_size`.execute(store.db);
  const frameBytes = Number(rows[0]!.page_size) + 24;
  const walBytes = (): number => {
    try {
      // An empty WAL starts with a 32-byte header on its first commit.
      return Math.max(statSync(`${path}-wal`).size, 32);
    } catch {
      return 32;
    }
  };
  const pages = { authorization: 0, redemption: 0, rotation: 0 };
  /** The process's CPU (user + system, µs) in each kind's store calls, commits included. */
  const cpu = { authorization: 0, redemption: 0, rotation: 0 };
  /** `GROUP` operations of a kind at once (one group commit), their pages counted per operation. */
  const measure = async <T>(kind: keyof typeof pages, operation: (index: number) => Promise<T>): Promise<T[]> => {
    const before = walBytes();
    const cpuBefore = process.cpuUsage();
    const results = await Promise.all(Array.from({ length: GROUP }, (_, index) => operation(index)));
    const used = process.cpuUsage(cpuBefore);
    cpu[kind] += used.user + used.system;
    pages[kind] += (walBytes() - before) / frameBytes;
    return results;
  };
  const batches = Math.ceil(OPS / GROUP);
  for (let batch = 0; batch < batches; batch++) {
    const codes = await measure('authorization', authorize);
    await measure('redemption', (index) => redeem(codes[index]!));
    // Distinct families: two rotations of one token in a group would be a reuse.
    const chosen = new Set<number>();
    while (chosen.size < Math.min(GROUP, families.length)) chosen.add(Math.floor(Math.random() * families.length));
    const picked = [...chosen];
    await measure('rotation', (index) => rotate(picked[index]!));
  }
  console.log(
    `SQLite, ${WARM.toLocaleString('en')} code flows before, ${batches * GROUP} of each operation measured, ` +
      `${GROUP} per commit, ${IDS} grant ids, sid and jti:`,
  );
  console.log('| operation | pages written per operation | CPU µs per operation |\n|---|--:|--:|');
  for (const [kind, total] of Object.entries(pages))
    console.log(
      `| ${kind} | ${(total / (batches * GROUP)).toFixed(1)} | ${Math.round(cpu[kind as keyof typeof cpu] / (batches * GROUP))} |`,
    );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
