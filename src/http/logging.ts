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
 * - Headers are not logged; should a caller log them anyway, pino's redaction removes the
 *   Authorization, Cookie and Set-Cookie headers.
 * - Bodies are never logged (passwords, client secrets, codes, refresh tokens live there).
 */
import { randomUUID } from 'node:crypto';
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

/** Header paths redacted wherever a header object is logged. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
];

export interface LogDestination {
  write(line: string): void;
}

/**
 * Fastify options for logging (request ids are logged as `reqId`, Fastify's default label; setting
 * `requestIdLogLabel` at the top level is deprecated, FSTDEP024): `true` logs JSON lines to stdout, a destination sends them
 * there (the tests capture them), `false` turns logging off.
 */
export function loggingOptions(logger: boolean | LogDestination): Pick<FastifyServerOptions, 'logger' | 'genReqId'> {
  if (logger === false) return { logger: false, genReqId: () => randomUUID() };
  return {
    genReqId: () => randomUUID(),
    logger: {
      level: 'info',
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      serializers: {
        req: (request: FastifyRequest) => ({
          method: request.method,
          url: redactUrl(request.url),
          remoteAddress: request.ip,
        }),
        res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
      },
      ...(logger === true ? {} : { stream: logger }),
    },
  };
}
