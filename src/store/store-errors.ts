/**
 * Which store errors mean "the database is unreachable or overloaded right now" (the client may
 * retry: RFC 6749 §4.1.2.1 / §5.2 `temporarily_unavailable`, HTTP 503) rather than a bug (500).
 *
 * The shapes differ per driver, so each is recognised here, in one place:
 * - Node socket errors (`code` ECONNREFUSED, ECONNRESET, ...), also wrapped in an AggregateError
 *   (Node tries every address of a host name) or as the `cause` of another error;
 * - PostgreSQL SQLSTATEs (`code`): class 08 connection exceptions, 57P01-57P03 (the server is
 *   shutting down, crashed, or not accepting connections yet), class 53 insufficient resources
 *   (too many connections, disk full, out of memory), and 40001/40P01/55P03 (serialization
 *   failure, deadlock, lock not available), which succeed when retried;
 * - pg's own errors, which carry only a message: a connection that ended under a query, a
 *   connection attempt that timed out (the pool's connectionTimeoutMillis), a query that timed
 *   out, a client that broke earlier;
 * - SQLite result codes from better-sqlite3 (`code` SQLITE_BUSY..., SQLITE_LOCKED...: another
 *   connection holds the lock past the busy timeout; SQLITE_IOERR..., SQLITE_FULL,
 *   SQLITE_CANTOPEN, SQLITE_PROTOCOL: the file cannot be read or written right now), and the
 *   error of a connection already closed (a request still running while the server shuts down).
 */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

const PG_RETRYABLE_STATES = new Set(['57P01', '57P02', '57P03', '40001', '40P01', '55P03']);

const PG_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
  /^Query read timeout/,
  /^Cannot use a pool after calling end on the pool/,
];

const SQLITE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL)(_|$)/;

export function isStoreUnavailableError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && (code.startsWith('08') || code.startsWith('53') || PG_RETRYABLE_STATES.has(code)))
      return true;
    if (SQLITE_CODES.test(code)) return true;
  }
  if (typeof message === 'string') {
    if (PG_MESSAGES.some((pattern) => pattern.test(message))) return true;
    // better-sqlite3 throws a TypeError once the database was closed.
    if (error instanceof TypeError && message === 'The database connection is not open') return true;
  }
  if (Array.isArray(errors) && errors.some((inner) => isStoreUnavailableError(inner, depth + 1))) return true;
  return cause !== undefined && isStoreUnavailableError(cause, depth + 1);
}

/** Unique-constraint violations of SQLite and PostgreSQL (a concurrent create won the race). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
