/**
 * Counts and times better-sqlite3 statement executions by SQL text, for bench/statements.ts: a
 * server started with `--count-statements` installs it; SIGUSR1 starts counting afresh, SIGUSR2
 * prints `BENCH_STATEMENTS {sql: {count, ns}}` on stdout (ns: the time spent in SQLite itself).
 */
import Database from 'better-sqlite3';

export const STATEMENTS_PREFIX = 'BENCH_STATEMENTS ';

export interface StatementCount {
  count: number;
  ns: number;
}

export function installStatementCounter(): void {
  const counts = new Map<string, StatementCount>();
  let counting = false;
  // Every statement shares one prototype; wrap its executing methods.
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = proto[method]!;
    proto[method] = function (this: { source: string }, ...args: unknown[]) {
      if (!counting) return original.apply(this, args);
      const start = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const entry = counts.get(this.source) ?? { count: 0, ns: 0 };
        entry.count++;
        entry.ns += Number(process.hrtime.bigint() - start);
        counts.set(this.source, entry);
      }
    };
  }
  process.on('SIGUSR1', () => {
    counts.clear();
    counting = true;
  });
  process.on('SIGUSR2', () => {
    counting = false;
    process.stdout.write(`${STATEMENTS_PREFIX}${JSON.stringify(Object.fromEntries(counts))}\n`);
  });
}
