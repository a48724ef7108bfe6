/**
 * The SQLite statement cache (src/store/open-store.ts withStatementCache): each SQL text is
 * prepared once, and the rows of a statement that returns rows are made objects from raw rows
 * by a function built from its columns. They must be exactly the objects better-sqlite3 makes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { withStatementCache } from '../../src/store/open-store.js';

function databases(): { plain: Database.Database; cached: Database.Database } {
  const plain = new Database(':memory:');
  plain.exec(`
    create table t ("id" integer primary key, "name" text, "data" blob, "a b" text, "x""y" text);
    insert into t values (1, 'one', x'0102', 'spaced', 'quoted'), (2, null, null, null, null);
  `);
  return { plain, cached: withStatementCache(plain) };
}

describe('SQLite statement cache', () => {
  it('prepares each SQL text once', () => {
    const { plain, cached } = databases();
    assert.equal(cached.prepare('select 1'), cached.prepare('select 1'));
    plain.close();
  });

  it('returns the rows better-sqlite3 returns: all, get and iterate, every type, odd and duplicate column names', () => {
    const { plain, cached } = databases();
    for (const sql of [
      'select * from t order by id',
      'select id, name as "n", id as "n" from t order by id',
      'select count(*) from t',
      'select * from t where id = 99',
    ]) {
      const expected = plain.prepare(sql).all();
      const statement = cached.prepare(sql);
      assert.deepEqual(statement.all(), expected, sql);
      assert.deepEqual(statement.get(), expected[0], sql);
      assert.deepEqual([...statement.iterate()], expected, sql);
    }
    // A column named __proto__ is an own property, never the prototype (better-sqlite3 assigns
    // it, which drops it; no table of the store has one).
    const odd = cached.prepare(`select 'p' as "__proto__", 1 as "id"`).get() as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(odd), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(odd, '__proto__')?.value, 'p');
    assert.equal(odd['id'], 1);
    // The later of two columns of one name wins.
    assert.deepEqual(cached.prepare('select 1 as "v", 2 as "v"').get(), { v: 2 });
    plain.close();
  });

  it('RETURNING rows are objects; a statement without rows runs as before', () => {
    const { plain, cached } = databases();
    assert.deepEqual(cached.prepare('update t set name = ? where id = ? returning id, name').all('uno', 1), [
      { id: 1, name: 'uno' },
    ]);
    assert.equal(cached.prepare('delete from t where id = ?').run(2).changes, 1);
    plain.close();
  });

  it('a cached `select *` follows a column added after it was prepared (SQLite prepares it again)', () => {
    const { plain, cached } = databases();
    const statement = cached.prepare('select * from t where id = 1');
    assert.equal(Object.keys(statement.get() as object).length, 5);
    plain.exec('alter table t add column "added" text default \'new\'');
    assert.deepEqual(statement.get(), plain.prepare('select * from t where id = 1').get());
    assert.equal((statement.get() as Record<string, unknown>)['added'], 'new');
    plain.close();
  });
});
