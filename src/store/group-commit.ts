/**
 * Group commit for SQLite: the writes of requests that arrive together share one transaction and
 * one COMMIT, and each request's answer still waits for that COMMIT.
 *
 * A SQLite commit costs a fixed part (BEGIN and COMMIT, the WAL's locks, a frame header and a
 * write per page) plus a part per page it writes, and the rows of concurrent requests mostly
 * land on the same pages (the newest leaf of every table and time-ordered index): 8 code flows
 * in one commit cost about 40% less SQLite CPU each than 8 commits (bench/floor.ts's writes,
 * measured with one commit per 1, 4 and 16 writes). So every write on the store's root that is
 * not inside a transaction already (a store transaction, codes.issue's inserts, a single INSERT
 * or UPDATE) is a *unit* of the current group:
 *
 * - the first unit opens the group: it takes the connection from Kysely's driver (so that every
 *   statement outside the group waits until the group has committed: nothing uncommitted is ever
 *   answered) and runs BEGIN; the store's own reads made meanwhile are queued (`readAfterGroup`)
 *   and run right after the group's COMMIT, synchronously and together in one read transaction
 *   (Executor.all), neither queueing on Kysely's driver nor each paying for a transaction;
 * - units run one after the other, each in a SAVEPOINT of its own: a unit that fails rolls back
 *   only its own writes and rejects at once, the others go on;
 * - once no unit runs or waits, at the end of the event loop's current turn (setImmediate: the
 *   requests whose bytes arrived in the same turn have joined by then), the group commits and
 *   every unit in it resolves; if the COMMIT fails, every unit in it rejects (nothing of them
 *   was answered yet).
 *
 * One request at a time, a group holds one unit: the cost is a SAVEPOINT and a RELEASE
 * (a few µs) and the wait for setImmediate.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** What the direct path needs of a better-sqlite3 connection (its `prepare` caches statements). */
export interface SqliteConnection {
  readonly inTransaction: boolean;
  /** The database file's path (better-sqlite3's `name`), ':memory:' or '' for a private one. */
  readonly name: string;
  /** Whether the connection is still open. */
  readonly open: boolean;
  prepare(sql: string): {
    readonly reader: boolean;
    /** Whether the statement writes nothing (better-sqlite3's `readonly`). */
    readonly readonly: boolean;
    all(...parameters: unknown[]): unknown[];
    run(...parameters: unknown[]): unknown;
  };
}

/** One open transaction shared by the units of a group. */
interface Group {
  /** The Kysely instance bound to the connection the group holds (for Kysely-built queries in a unit). */
  readonly held: Kysely<Database>;
  readonly committed: Promise<void>;
  commit(): void;
  fail(error: unknown): void;
}

export class GroupCommit {
  /** The group units join: opening (the connection not taken yet) or open. */
  private group: Promise<Group> | undefined;
  /** Units that joined the group but have not had their turn yet. */
  private joining = 0;
  /** Units waiting for their turn, in arrival order. */
  private readonly waiting: Array<() => void> = [];
  private running = false;
  private commitScheduled = false;
  /** The group once its transaction has begun (the COMMIT needs it synchronously). */
  private openGroup: Group | undefined;
  /** Reads made while the open group runs, to run once it has ended (see readAfterGroup). */
  private readsAfterGroup: Array<() => void> = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly direct: SqliteConnection,
  ) {
    if (direct.name !== '' && direct.name !== ':memory:') {
      const peers = OPEN_FILES.get(direct.name) ?? new Set<SqliteConnection>();
      peers.add(direct);
      OPEN_FILES.set(direct.name, peers);
    }
  }

  /**
   * Whether to wait for the end of the event loop's turn before committing: not while another
   * connection of this process has the same file open (two stores of one file, as tests make
   * them). Its writes would wait for our write lock, and SQLite's busy handler waits by blocking
   * the thread: our COMMIT, due at the end of the turn, would never come.
   */
  private waitsForTurn(): boolean {
    const peers = OPEN_FILES.get(this.direct.name);
    if (peers === undefined) return true;
    for (const peer of peers) if (!peer.open) peers.delete(peer);
    return peers.size <= 1;
  }

  /**
   * Runs `unit` in the current group (opening one if none is open), in a savepoint of its own,
   * and resolves with its value once the group has committed. `unit` gets the Kysely instance
   * bound to the group's connection; `synchronous` says it returns no promise (a statement).
   */
  async run<T>(unit: (held: Kysely<Database>) => T | Promise<T>, synchronous = false): Promise<T> {
    if (!this.waitsForTurn()) return this.runAlone(unit, synchronous);
    this.joining++;
    let group: Group;
    try {
      this.group ??= this.open();
      group = await this.group;
      await this.turn();
    } finally {
      // Until here the group cannot commit (see tryCommit): this unit is part of it.
      this.joining--;
    }
    let value: T;
    try {
      this.direct.prepare('savepoint "gatehouse_unit"').run();
      try {
        // A synchronous unit (a single statement, codes.issue's inserts) runs from its SAVEPOINT
        // to its RELEASE (and, see waitsForTurn, its COMMIT) without yielding: nothing else can
        // run while it holds SQLite's write lock.
        const returned = unit(group.held);
        value = returned instanceof Promise ? await returned : returned;
      } catch (error) {
        // A unit's failure is its own: only its writes go (SQLite may have rolled back the whole
        // transaction already, after SQLITE_FULL say: then the group fails at its COMMIT).
        if (this.direct.inTransaction) {
          this.direct.prepare('rollback to savepoint "gatehouse_unit"').run();
          this.direct.prepare('release savepoint "gatehouse_unit"').run();
        }
        throw error;
      }
      this.direct.prepare('release savepoint "gatehouse_unit"').run();
    } finally {
      this.next();
    }
    await group.committed;
    return value;
  }

  /**
   * `unit` in a transaction of its own, committed as soon as it ends (see waitsForTurn). A
   * synchronous unit while no transaction is open runs from BEGIN to COMMIT without yielding;
   * otherwise the connection is taken from Kysely's driver for it, so that every other
   * statement waits until it has committed.
   */
  private async runAlone<T>(unit: (held: Kysely<Database>) => T | Promise<T>, synchronous: boolean): Promise<T> {
    const inTransaction = async (held: Kysely<Database>): Promise<T> => {
      this.direct.prepare('begin').run();
      try {
        const returned = unit(held);
        const value = returned instanceof Promise ? await returned : returned;
        this.direct.prepare('commit').run();
        return value;
      } catch (error) {
        if (this.direct.inTransaction) this.direct.prepare('rollback').run();
        throw error;
      }
    };
    if (synchronous && !this.direct.inTransaction && this.group === undefined) return inTransaction(this.db);
    return this.db.connection().execute(inTransaction);
  }

  /**
   * While the connection's open transaction is this group's: runs `read` right after the group
   * has committed (or failed and rolled back), before anything else can open a transaction, and
   * settles with its result. Every read made during one group runs then, one after the other in
   * a single read transaction: under load a group is open most of the time, and a read's own
   * transaction (the WAL's read lock taken and released, two fcntl calls) costs more than the
   * statement. What a read sees is never what the group might still roll back. Undefined when the
   * open transaction is not a group's (runAlone's, or one Kysely opened).
   */
  readAfterGroup<T>(read: () => T): Promise<T> | undefined {
    if (this.openGroup === undefined) return undefined;
    return new Promise<T>((resolve, reject) => {
      this.readsAfterGroup.push(() => {
        try {
          resolve(read());
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** The reads queued during the group that just ended (see readAfterGroup). */
  private runReadsAfterGroup(): void {
    const reads = this.readsAfterGroup;
    if (reads.length === 0) return;
    this.readsAfterGroup = [];
    let together = false;
    if (reads.length > 1 && !this.direct.inTransaction) {
      try {
        this.direct.prepare('begin').run();
        together = true;
      } catch {
        // Each read then runs in a transaction of its own (and fails on its own).
      }
    }
    try {
      for (const read of reads) read();
    } finally {
      if (together && this.direct.inTransaction) {
        try {
          this.direct.prepare('commit').run();
        } catch {
          // A read transaction wrote nothing: ending it cannot lose anything.
          if (this.direct.inTransaction) this.direct.prepare('rollback').run();
        }
      }
    }
  }

  /** Takes the connection from Kysely's driver for the group, and begins its transaction. */
  private open(): Promise<Group> {
    const opening = new Promise<Group>((opened, failedToOpen) => {
      let commit!: () => void;
      let fail!: (error: unknown) => void;
      const committed = new Promise<void>((resolve, reject) => {
        commit = resolve;
        fail = reject;
      });
      // Every unit awaits it; a group whose COMMIT failed must not also be an unhandled rejection.
      committed.catch(() => undefined);
      this.db
        .connection()
        .execute(async (held) => {
          this.direct.prepare('begin').run();
          const group = { held, committed, commit, fail };
          this.openGroup = group;
          opened(group);
          // Held until the group has committed or failed (see tryCommit).
          await committed.catch(() => undefined);
        })
        .catch(failedToOpen);
    });
    // A group that could not open (the store is closing, say) fails its units; the next opens anew.
    opening.catch(() => {
      if (this.group === opening) this.group = undefined;
    });
    return opening;
  }

  /** Resolves when it is this unit's turn (no other unit of the group runs). */
  private turn(): Promise<void> {
    if (!this.running) {
      this.running = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Hands the group to the next waiting unit, or schedules the COMMIT when none waits. */
  private next(): void {
    const following = this.waiting.shift();
    if (following !== undefined) {
      following();
      return;
    }
    this.running = false;
    if (!this.waitsForTurn()) {
      this.tryCommit();
      return;
    }
    if (!this.commitScheduled) {
      this.commitScheduled = true;
      setImmediate(() => {
        this.commitScheduled = false;
        this.tryCommit();
      });
    }
  }

  private tryCommit(): void {
    // A unit still joining or running commits the group when it ends.
    const group = this.openGroup;
    if (this.running || this.joining > 0 || group === undefined) return;
    this.openGroup = undefined;
    this.group = undefined;
    try {
      this.direct.prepare('commit').run();
    } catch (error) {
      if (this.direct.inTransaction) this.direct.prepare('rollback').run();
      this.runReadsAfterGroup();
      group.fail(error);
      return;
    }
    this.runReadsAfterGroup();
    group.commit();
  }
}

/** The SQLite files this process has open, and its connections to each (see waitsForTurn). */
const OPEN_FILES = new Map<string, Set<SqliteConnection>>();
