/**
 * Migration 0028 (src/store/migration-history.ts lists it): the grant becomes the refresh token
 * family's row.
 */
import { sql } from 'kysely';
import { migration } from './migration-ddl.js';

/**
 * The grant is the refresh token family's row (issue 14: every B-tree a row is in is another page
 * written per commit, ~15 µs each on SQLite). A family belongs to exactly one grant (RFC 9700
 * §4.14.2 rotation replaces tokens, never the authorization), so what every token of a family
 * repeated is read from its grant: flow_id, client_id, user_id and scope were the grant's already
 * (the code grant and the device grant write a family's tokens from the same values as its grant;
 * a refresh may narrow the scope of one access token, never the family's), and the grant gets
 * resources and auth_time (RFC 8707 resources, the sign-in time), NULL for grants that never
 * started a family. They are copied from each family's first token, then refresh_tokens is rebuilt
 * with what changes per token, and two columns kept on purpose:
 * - family_expires_at stays on the token: the cleanup finds a rotated token whose family expired
 *   by it, and an index cannot reach into the grant;
 * - dpop_jkt (RFC 9449 §5) stays on the token: the key is known only at the token request, after
 *   the grant row was written at the authorization endpoint, and storing it on the grant would
 *   rewrite the grant row at every redemption.
 * A refresh token row then sits in 4 B-trees instead of 7 when written: the table, its primary
 * key, grant_id (the ON DELETE CASCADE from grants, and listings by grant) and the partial index
 * of unrotated tokens' idle expiry (0007). The client_id and user_id indexes go with their
 * columns: deleting a client or user deletes its grants (0001), and those their refresh tokens.
 * The family_expires_at index becomes partial, of rotated tokens only: an unrotated token's own
 * expires_at is never later than its family's (src/core/token/refresh-token-family.ts), so the
 * partial index of unrotated tokens finds those of expired families too
 * (src/store/repositories/expired-rows.ts). A redemption thus writes no family_expires_at entry,
 * and a rotation one (the rotated token's) instead of the successor's.
 *
 * authorization_codes keeps both its expires_at index (0001) and the partial one of unconsumed
 * codes (0007): neither serves both of the cleanup's scans. Unconsumed codes go at their expiry;
 * by the plain index that scan would step over every redeemed code kept for replay detection
 * (consumedCodeRetentionMs, as long as a refresh token family lives) at every run. Redeemed codes
 * go once that retention has passed; the partial index does not hold them, so that scan would
 * read the whole table. Nothing else reads codes by expiry.
 */
export const grantIsTheFamily = migration('0028_grant_is_the_family', async (schema, db) => {
  await schema.addColumns('grants', 'resources text, auth_time time');
  // Each family's first token's terms (all of a family's tokens carry the same ones).
  const first = (column: string) =>
    sql`(select ${sql.ref(`r.${column}`)} from refresh_tokens r where r.grant_id = grants.id order by r.created_at, r.token_hash limit 1)`;
  await sql`update grants set resources = ${first('resources')}, auth_time = ${first('auth_time')}
    where exists (select 1 from refresh_tokens r where r.grant_id = grants.id)`.execute(db);

  await db.schema.dropIndex('refresh_tokens_family_expires_at_idx').ifExists().execute();
  await db.schema.dropIndex('refresh_tokens_client_id_idx').ifExists().execute();
  await db.schema.dropIndex('refresh_tokens_user_id_idx').ifExists().execute();
  const kept =
    'token_hash, grant_id, created_at, expires_at, family_expires_at, rotated_at, successor_hash, successor_encrypted, dpop_jkt';
  if (schema.dialect === 'postgres') {
    // In place: dropping a column drops its foreign key; old rows keep the bytes until rewritten.
    for (const column of ['flow_id', 'client_id', 'user_id', 'scope', 'resources', 'auth_time'])
      await db.schema.alterTable('refresh_tokens').dropColumn(column).execute();
  } else {
    // SQLite cannot drop a column that has a foreign key: the table is rebuilt (nothing
    // references refresh_tokens, so nothing else changes) and its indexes made again.
    await schema.createTable(
      'refresh_tokens_0028',
      `
      token_hash text primary key, grant_id text not null references grants(id) on delete cascade,
      created_at time not null, expires_at time not null, family_expires_at time not null, rotated_at time,
      successor_hash text, successor_encrypted text, dpop_jkt text`,
    );
    await sql`insert into refresh_tokens_0028 (${sql.raw(kept)}) select ${sql.raw(kept)} from refresh_tokens`.execute(
      db,
    );
    await db.schema.dropTable('refresh_tokens').execute();
    await db.schema.alterTable('refresh_tokens_0028').renameTo('refresh_tokens').execute();
    await schema.createIndexes({ refresh_tokens: ['grant_id'] });
    await schema.createIndex('refresh_tokens_unrotated_expires_at_idx', 'refresh_tokens', ['expires_at'], {
      whereNull: 'rotated_at',
    });
  }
  await schema.createIndex('refresh_tokens_rotated_family_expires_at_idx', 'refresh_tokens', ['family_expires_at'], {
    whereNotNull: 'rotated_at',
  });
});
