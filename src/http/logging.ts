/**
 * Structured JSON logs (pino, through Fastify) that carry no secrets.
 *
 * - Every line of a request carries its request id (`reqId`, a random UUID, also sent to the
 *   client as `X-Request-Id` so a user's report can be matched to the log). An incoming
 *   X-Request-Id is not trusted: a client could forge or flood ids.
 * - Request lines log the method, the path and the query with every value replaced by
 *   `[redacted]` except an allow-list of parameters that are no credential (client_id, scope,
 *   redirect_uri, ...): codes, tokens, `state`, `nonce`, PKCE values, `id_token_hint`, login
 *   hints and anything unknown never reach the log.
 * - Headers are not logged; should a caller log them anyway (as `headers`), the Authorization,
 *   Proxy-Authorization, Cookie and Set-Cookie values are replaced (redactHeaders).
 * - Bodies are never logged (passwords, client secrets, codes, refresh tokens live there).
 */
import { randomUUID } from 'node:crypto';
import { writeSync } from 'node:fs';
import type { FastifyRequest, FastifyServerOptions } from 'fastify';

export const REDACTED = '[redacted]';

/** Query parameters whose values are no credential and help to follow a flow in the log. */
export const LOGGED_QUERY_PARAMETERS: ReadonlySet<string> = new Set([
  'client_id',
  'response_type',
  'response_mode',
  'scope',
  'redirect_uri',
  'post_logout_redirect_uri',
  'prompt',
  'max_age',
  'ui_locales',
  'code_challenge_method',
  'grant_type',
  'token_type_hint',
  'resource',
  'failed',
]);

/** The URL with every query value outside LOGGED_QUERY_PARAMETERS replaced by [redacted]. */
export function redactUrl(url: string): string {
  const question = url.indexOf('?');
  if (question < 0) return url;
  const path = url.slice(0, question);
  const query = url.slice(question + 1).split('#')[0] ?? '';
  const parts = query.split('&').map((part) => {
    if (part === '') return part;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    let name: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      name = '';
    }
    // Names are kept only when known: an unknown name could itself carry a secret.
    if (!LOGGED_QUERY_PARAMETERS.has(name)) return `${REDACTED}=${REDACTED}`;
    return part;
  });
  return `${path}?${parts.join('&')}`;
}

/** Headers whose values are credentials: replaced by [redacted] wherever a header object is logged. */
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/**
 * A logged header object with every credential header's value replaced by [redacted] (names
 * compared without case). The `headers` serializer: pino runs a serializer only for a key the
 * logged object has, where its `redact` paths cloned and walked every line's object (about 2% of
 * an introspection's CPU, bench/perf-profile.ts) although no line Gatehouse writes has headers.
 * `req` and `res` are serialized to a few fields without headers (loggingOptions).
 */
export function redactHeaders(headers: unknown): unknown {
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return headers;
  const copy: Record<string, unknown> = { ...(headers as Record<string, unknown>) };
  for (const name of Object.keys(copy)) if (SECRET_HEADERS.has(name.toLowerCase())) copy[name] = REDACTED;
  return copy;
}

export interface LogDestination {
  write(line: string): void;
}

/**
 * Log lines written out in batches: the lines logged within LOG_BATCH_DELAY_MS of the first one
 * pending go out in one write (at once when they pass LOG_BATCH_MAX_BYTES). A request logs several
 * lines (pino's "incoming request" and "request completed", and one per protocol event,
 * src/server.ts), and one write per line is a system call that also wakes whoever reads the pipe:
 * under load those writes were 15% of an introspection's main-thread time (bench/README.md, "Request
 * logs"). What is pending is written before the process exits (also after an uncaught exception,
 * which exits through 'exit'); only a process killed outright loses its last few milliseconds of
 * lines, as with pino's own asynchronous destination.
 */
export const LOG_BATCH_DELAY_MS = 10;
export const LOG_BATCH_MAX_BYTES = 256 * 1024;

export class BatchedLogWriter implements LogDestination {
  private pending: string[] = [];
  private pendingLength = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly output: (data: string) => void,
    private readonly delayMs = LOG_BATCH_DELAY_MS,
    private readonly maxLength = LOG_BATCH_MAX_BYTES,
  ) {}

  write(line: string): void {
    this.pending.push(line);
    this.pendingLength += line.length;
    if (this.pendingLength >= this.maxLength) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.delayMs);
      // Pending lines never keep the process alive: 'exit' writes them (stdoutLogDestination).
      this.timer.unref();
    }
  }

  /** Writes what has been logged since the last write. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const data = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    this.pendingLength = 0;
    this.output(data);
  }
}

const WAIT_CELL = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `data` to a file descriptor, synchronously, as pino's default destination does.
 * A pipe whose reader is behind answers EAGAIN when it is non-blocking: wait and retry rather
 * than drop lines. Any other failure (EPIPE: nobody reads stdout any more) drops the lines; a
 * log that cannot be written must not take the server down.
 */
function writeFully(fd: number, data: string): void {
  const buffer = Buffer.from(data);
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += writeSync(fd, buffer, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      Atomics.wait(WAIT_CELL, 0, 0, 1);
    }
  }
}

let stdoutWriter: BatchedLogWriter | undefined;

/** The process's stdout as a log destination: one per process, flushed when the process exits. */
export function stdoutLogDestination(): BatchedLogWriter {
  if (stdoutWriter === undefined) {
    const writer = new BatchedLogWriter((data) => writeFully(1, data));
    process.on('exit', () => writer.flush());
    stdoutWriter = writer;
  }
  return stdoutWriter;
}

/**
 * Fastify options for logging (request ids are logged as `reqId`, Fastify's default label; setting
 * `requestIdLogLabel` at the top level is deprecated, FSTDEP024): `true` logs JSON lines to stdout
 * (stdoutLogDestination: lines written in batches), a destination sends them there
 * (the tests capture them), `false` turns logging off.
 */
export function loggingOptions(logger: boolean | LogDestination): Pick<FastifyServerOptions, 'logger' | 'genReqId'> {
  if (logger === false) return { logger: false, genReqId: () => randomUUID() };
  return {
    genReqId: () => randomUUID(),
    logger: {
      level: 'info',
      serializers: {
        headers: redactHeaders,
        req: (request: FastifyRequest) => ({
          method: request.method,
          url: redactUrl(request.url),
          remoteAddress: request.ip,
        }),
        res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
      },
      stream: logger === true ? stdoutLogDestination() : logger,
    },
  };
}
