/**
 * Schema migrations, shared by SQLite and PostgreSQL.
 *
 * Migrations form an ordered, append-only list: a released migration is never edited, a schema
 * change is a new entry. `migrate()` records each applied migration by name in
 * `gatehouse_migrations` and applies the missing ones in order, so it can run at every start of
 * every instance. Concurrent `migrate()` calls (several instances starting at once) are
 * serialized by a database lock, and each migration commits together with its record, so a
 * crash never leaves a half-applied migration behind.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, Dialect } from './schema.js';
import { migrations, type Migration } from './migration-history.js';
import { schemaChanges } from './migration-ddl.js';

export { migrations, type Migration } from './migration-history.js';

/**
 * Key of the PostgreSQL advisory lock that serializes `migrate()` across instances
 * (an arbitrary constant; "gh" + "migr" in ASCII).
 */
const POSTGRES_MIGRATION_LOCK_KEY = 0x6768_6d69_6772;

/**
 * Applies the migrations not yet recorded in `gatehouse_migrations`, in order. Idempotent and
 * safe to call concurrently. Returns the names of the migrations it applied.
 */
export async function migrate(
  db: Kysely<Database>,
  dialect: Dialect,
  list: readonly Migration[] = migrations,
): Promise<string[]> {
  assertUniqueNames(list);
  return withMigrationLock(db, dialect, async (locked) => {
    await schemaChanges(locked, dialect).createTable(
      'gatehouse_migrations',
      'name text primary key, applied_at time not null',
      { ifNotExists: true },
    );

    const done = new Set(await listAppliedMigrations(locked));
    const applied: string[] = [];
    for (const migration of list) {
      if (done.has(migration.name)) continue;
      await migration.up(locked as Kysely<any>, dialect);
      await locked
        .insertInto('gatehouse_migrations')
        .values({ name: migration.name, applied_at: Date.now() })
        .execute();
      applied.push(migration.name);
    }
    return applied;
  });
}

/** Names recorded in `gatehouse_migrations` (the table must exist). */
export async function listAppliedMigrations(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('gatehouse_migrations').select('name').orderBy('name').execute();
  return rows.map((row) => row.name);
}

function assertUniqueNames(list: readonly Migration[]): void {
  const seen = new Set<string>();
  for (const { name } of list) {
    if (seen.has(name)) throw new Error(`Duplicate migration name: ${name}`);
    seen.add(name);
  }
}

/**
 * Runs `fn` in one transaction that holds an exclusive migration lock, so concurrent callers
 * apply each migration once and see each other's records. Both dialects have transactional DDL,
 * so a failing migration rolls back completely.
 */
async function withMigrationLock<T>(
  db: Kysely<Database>,
  dialect: Dialect,
  fn: (db: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (dialect === 'postgres') {
    return db.transaction().execute(async (trx) => {
      // Released automatically at commit or rollback.
      await sql`select pg_advisory_xact_lock(${POSTGRES_MIGRATION_LOCK_KEY})`.execute(trx);
      return fn(trx);
    });
  }
  // SQLite: BEGIN IMMEDIATE takes the write lock up front. A plain (deferred) BEGIN would
  // first read the migrations table and could then fail to upgrade to a write lock when
  // another process migrated in between.
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn);
      throw error;
    }
  });
}
