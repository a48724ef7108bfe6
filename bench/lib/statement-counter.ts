/**
 * Counts and times the database work of a server, for bench/statements.ts: a server started
 * with `--count-statements` installs it; SIGUSR1 starts counting afresh, SIGUSR2 prints
 * `BENCH_STATEMENTS {requests, statements}` on stdout.
 *
 * - SQLite: every better-sqlite3 statement execution (run, get, all, iterate), with the time
 *   spent in SQLite itself (wall clock, and the process's CPU time meanwhile).
 * - PostgreSQL: every query pg's Client sends (the pool's clients are pg.Client instances; Kysely,
 *   BEGIN and COMMIT included), with the time until its answer. pg sends a client's next query
 *   only after the previous one's ReadyForQuery, so each query is one network round trip (a
 *   string of several statements sent as one simple query is one query, and one round trip).
 *
 * - Store calls (`--time-store`, timeStore()): the CPU time (process.cpuUsage, all threads) of each
 *   call of the store's repositories and of `store.transaction`, from the call until its promise
 *   settles; a call made inside another timed call counts in the outer one only, except the
 *   calls on a transaction's own store (`transaction>grants.get`), counted apart. For
 *   bench/budget.ts, one request at a time: nothing else runs meanwhile.
 *
 * Each execution is attributed to the HTTP request it ran for (`GET /authorize`,
 * `POST /token`, ...), followed through its asynchronous continuations (AsyncLocalStorage from
 * the http server's 'request' event); work started outside any request is `(no request)`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Server } from 'node:http';
import Database from 'better-sqlite3';
import pg from 'pg';

export const STATEMENTS_PREFIX = 'BENCH_STATEMENTS ';
export const NO_REQUEST = '(no request)';

export interface StatementCount {
  count: number;
  /** Wall time: SQLite's time for a statement, the time until the answer for a pg query. */
  ns: number;
  /** SQLite only: the process's CPU time during the statements (synchronous), in nanoseconds. */
  cpuNs?: number;
}

export interface StatementReport {
  /** Requests seen per route (`METHOD /path`). */
  requests: Record<string, number>;
  /** Per route, per SQL text: executions and nanoseconds. */
  statements: Record<string, Record<string, StatementCount>>;
  /** Per route, per store method (`sessions.get`): calls and CPU nanoseconds (timeStore). */
  store: Record<string, Record<string, StatementCount>>;
}

const requests = new Map<string, number>();
const counts = new Map<string, Map<string, StatementCount>>();
const storeCounts = new Map<string, Map<string, StatementCount>>();
const route = new AsyncLocalStorage<string>();
let counting = false;
let installed = false;

function record(into: Map<string, Map<string, StatementCount>>, what: string, ns: number, cpuNs?: number): void {
  const key = route.getStore() ?? NO_REQUEST;
  let perRoute = into.get(key);
  if (!perRoute) {
    perRoute = new Map();
    into.set(key, perRoute);
  }
  const entry = perRoute.get(what) ?? { count: 0, ns: 0 };
  entry.count++;
  entry.ns += ns;
  if (cpuNs !== undefined) entry.cpuNs = (entry.cpuNs ?? 0) + cpuNs;
  perRoute.set(what, entry);
}

/** Routes requests (AsyncLocalStorage) and answers SIGUSR1 / SIGUSR2; once per process. */
function installProbes(): void {
  if (installed) return;
  installed = true;
  // Every request enters through the http server's 'request' event: name it by method and path.
  const emit = Server.prototype.emit as (this: Server, event: string | symbol, ...rest: unknown[]) => boolean;
  Server.prototype.emit = function (this: Server, event: string | symbol, ...rest: unknown[]) {
    if (event !== 'request' || !counting) return emit.call(this, event, ...rest);
    const request = rest[0] as { method?: string; url?: string };
    const key = `${request.method ?? '?'} ${(request.url ?? '').split('?')[0]}`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
    return route.run(key, () => emit.call(this, event, ...rest));
  } as typeof Server.prototype.emit;

  process.on('SIGUSR1', () => {
    counts.clear();
    storeCounts.clear();
    requests.clear();
    counting = true;
  });
  process.on('SIGUSR2', () => {
    counting = false;
    const table = (from: Map<string, Map<string, StatementCount>>) =>
      Object.fromEntries([...from].map(([key, perRoute]) => [key, Object.fromEntries(perRoute)]));
    const report: StatementReport = {
      requests: Object.fromEntries(requests),
      statements: table(counts),
      store: table(storeCounts),
    };
    process.stdout.write(`${STATEMENTS_PREFIX}${JSON.stringify(report)}\n`);
  });
}

/** Counts SQLite statements and PostgreSQL queries; before the store is opened. */
export function installStatementCounter(): void {
  installProbes();

  // better-sqlite3: every statement shares one prototype; wrap its executing methods.
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = proto[method]!;
    proto[method] = function (this: { source: string }, ...args: unknown[]) {
      if (!counting) return original.apply(this, args);
      const cpu = process.cpuUsage();
      const start = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const wall = Number(process.hrtime.bigint() - start);
        const used = process.cpuUsage(cpu);
        record(counts, this.source, wall, (used.user + used.system) * 1000);
      }
    };
  }

  // pg: Client.prototype.query, promise or callback form; its text from a string or a config.
  const clientProto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = clientProto.query;
  clientProto.query = function (this: unknown, ...args: unknown[]) {
    if (!counting) return query.apply(this, args);
    const config = args[0] as string | { text?: string } | undefined;
    const sql = typeof config === 'string' ? config : (config?.text ?? '(submittable)');
    const start = process.hrtime.bigint();
    const done = () => record(counts, sql, Number(process.hrtime.bigint() - start));
    const callbackAt = args.findIndex((arg) => typeof arg === 'function');
    if (callbackAt >= 0) {
      const callback = args[callbackAt] as (...results: unknown[]) => unknown;
      args[callbackAt] = (...results: unknown[]) => {
        done();
        return callback(...results);
      };
      return query.apply(this, args);
    }
    const result = query.apply(this, args);
    if (result instanceof Promise)
      return result.then(
        (value) => {
          done();
          return value;
        },
        (error: unknown) => {
          done();
          throw error;
        },
      );
    done();
    return result;
  };
}

/**
 * Times the calls of `store`'s repositories and its `transaction` (CPU, see above), replacing
 * the methods in place, so that every user of these objects (the server's context) is timed.
 */
const NOT_REPOSITORIES = new Set(['db', 'executor', 'changes']);

export function timeStore(store: object): void {
  installProbes();
  // Timed calls in progress: 0 outside, 1 in a call of the outer store (or its transaction), 2
  // in a call of the transaction's own store, made by the transaction's callback.
  let depth = 0;
  const wrap = (owner: Record<string, unknown>, method: string, label: string, inTransaction: boolean) => {
    const original = owner[method] as (...args: unknown[]) => unknown;
    owner[method] = function (this: unknown, ...args: unknown[]) {
      if (!counting || depth !== (inTransaction ? 1 : 0)) return original.apply(this, args);
      if (method === 'transaction' && !inTransaction && typeof args[0] === 'function') {
        // The calls the redemption makes on the transaction's store are timed too, apart.
        const callback = args[0] as (inner: object) => unknown;
        args[0] = (inner: object) => callback(timedView(inner));
      }
      depth++;
      const start = process.cpuUsage();
      const done = () => {
        depth--;
        const used = process.cpuUsage(start);
        record(storeCounts, label, (used.user + used.system) * 1000);
      };
      let result: unknown;
      try {
        result = original.apply(this, args);
      } catch (error) {
        done();
        throw error;
      }
      if (result instanceof Promise)
        return result.then(
          (value) => {
            done();
            return value;
          },
          (error: unknown) => {
            done();
            throw error;
          },
        );
      done();
      return result;
    };
  };
  const wrapRepositories = (of: object, prefix: string, inTransaction: boolean) => {
    for (const [name, repository] of Object.entries(of)) {
      // The repositories (clients, sessions, codes, ...), not the query builder or the change feed.
      if (typeof repository !== 'object' || repository === null || NOT_REPOSITORIES.has(name)) continue;
      const repo = repository as Record<string, unknown>;
      const methods = new Set<string>();
      for (let proto: object | null = repo; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto))
        for (const key of Object.getOwnPropertyNames(proto))
          if (key !== 'constructor' && typeof repo[key] === 'function') methods.add(key);
      for (const method of methods) wrap(repo, method, `${prefix}${name}.${method}`, inTransaction);
    }
  };
  /**
   * The transaction's store (a new one per transaction) as seen by its callback: the methods of
   * the repositories it uses, timed, wrapped on first use only (wrapping all of them per
   * transaction would cost more than what is measured). Calls go to the real objects.
   */
  const timedView = (inner: object): object => {
    const views = new Map<PropertyKey, unknown>();
    return new Proxy(inner, {
      get(target, property) {
        const value = Reflect.get(target, property) as unknown;
        if (views.has(property)) return views.get(property);
        let view = value;
        if (typeof value === 'function') view = (value as (...a: unknown[]) => unknown).bind(target);
        else if (typeof value === 'object' && value !== null && !NOT_REPOSITORIES.has(String(property))) {
          const methods = new Map<PropertyKey, unknown>();
          view = new Proxy(value, {
            get(repo, method) {
              const member = Reflect.get(repo, method) as unknown;
              if (typeof member !== 'function') return member;
              let timed = methods.get(method);
              if (timed === undefined) {
                const holder: Record<string, unknown> = { [String(method)]: member.bind(repo) };
                wrap(holder, String(method), `transaction>${String(property)}.${String(method)}`, true);
                timed = holder[String(method)];
                methods.set(method, timed);
              }
              return timed;
            },
          });
        }
        views.set(property, view);
        return view;
      },
    });
  };
  wrap(store as Record<string, unknown>, 'transaction', 'transaction', false);
  wrapRepositories(store, '', false);
}
