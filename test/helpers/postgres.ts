/**
 * PostgreSQL for tests: every call gets a fresh schema of its own, so test runs (and test files
 * running in parallel) never see each other's rows, and cleanup is one DROP SCHEMA.
 *
 * The server is found at GATEHOUSE_TEST_POSTGRES_URL, else at postgres://postgres@127.0.0.1:5432/test
 * and then as user `root` (trust authentication on a developer machine or CI service).
 * When no server answers, CI (CI=true) fails, while elsewhere the PostgreSQL tests are skipped
 * with the reason from postgresSkipMessage().
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const DEFAULT_URLS = ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test'];

const CONNECT_TIMEOUT_MS = 3000;

let unavailableReason = 'PostgreSQL availability not checked yet';

/**
 * A database URL with `?schema=gh_test_<pid>_<random>` naming a newly created schema, or
 * undefined when PostgreSQL is unreachable outside CI.
 */
export async function postgresTestUrl(): Promise<string | undefined> {
  const envUrl = process.env.GATEHOUSE_TEST_POSTGRES_URL;
  const candidates = envUrl ? [envUrl] : DEFAULT_URLS;
  const failures: string[] = [];
  for (const baseUrl of candidates) {
    try {
      const schema = `gh_test_${process.pid}_${randomBytes(6).toString('hex')}`;
      await withClient(baseUrl, (client) => client.query(`CREATE SCHEMA "${schema}"`));
      return withSchemaParam(baseUrl, schema);
    } catch (error) {
      failures.push(`${redact(baseUrl)}: ${(error as Error).message}`);
    }
  }
  unavailableReason = `PostgreSQL not reachable at ${envUrl ? redact(envUrl) : '127.0.0.1:5432'}: ${failures.join('; ')}`;
  if (process.env.CI === 'true') throw new Error(unavailableReason);
  return undefined;
}

/** Why the last postgresTestUrl() call returned undefined, for `t.skip()` / `{ skip }`. */
export function postgresSkipMessage(): string {
  return unavailableReason;
}

/** Drops the schema named by a URL from postgresTestUrl(), with everything in it. */
export async function dropPostgresSchema(url: string): Promise<void> {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  if (!schema) throw new Error('dropPostgresSchema: the URL has no schema parameter');
  if (!schema.startsWith('gh_test_')) {
    // A guard against pointing this at a real schema by mistake.
    throw new Error(`dropPostgresSchema: refusing to drop non-test schema "${schema}"`);
  }
  parsed.searchParams.delete('schema');
  await withClient(parsed.toString(), (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A connection failure also emits 'error'; without a listener it would crash the test process.
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function withSchemaParam(baseUrl: string, schema: string): string {
  const url = new URL(baseUrl);
  url.searchParams.set('schema', schema);
  return url.toString();
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
