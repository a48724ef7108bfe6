/**
 * What an operator's tooling talks to: readiness (`/readyz`; liveness `/healthz` is with the
 * discovery routes) and Prometheus metrics (`/metrics`), plus the request hooks that feed the
 * HTTP metrics. Nothing here is wired into an endpoint: the hooks see every request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProviderContext } from '../../core/context.js';
import { GatehouseMetrics, METRICS_CONTENT_TYPE } from '../../operations/metrics.js';
import { ReadinessProbe } from '../../operations/readiness.js';
import { mappedErrorCodes, sendOAuthJson } from '../error-responses.js';

/** The OAuth error code a response carries, for the `error` label; '' for none. */
function responseErrorCode(request: FastifyRequest, reply: FastifyReply, payload: unknown): string | null {
  const mapped = mappedErrorCodes.get(request);
  if (mapped !== undefined) return mapped;
  const status = reply.statusCode;
  if (status >= 400 && typeof payload === 'string' && payload.startsWith('{')) {
    // RFC 6749 §5.2 error responses (and the other JSON endpoints' errors) are small.
    try {
      const error = (JSON.parse(payload) as { error?: unknown }).error;
      if (typeof error === 'string') return error;
    } catch {
      // not JSON after all: no error code
    }
  }
  const location = reply.getHeader('location');
  if (status >= 300 && status < 400 && typeof location === 'string' && location.includes('error=')) {
    // RFC 6749 §4.1.2.1: an error redirected to the client.
    try {
      const url = new URL(location, 'http://gatehouse.invalid');
      const error = url.searchParams.get('error') ?? new URLSearchParams(url.hash.slice(1)).get('error');
      if (error !== null) return error;
    } catch {
      // an unparseable Location would be a bug elsewhere; no error code
    }
  }
  const challenge = reply.getHeader('www-authenticate');
  if (typeof challenge === 'string') {
    // RFC 6750 §3: Bearer error="invalid_token".
    const error = /error="([^"]*)"/.exec(challenge)?.[1];
    if (error !== undefined) return error;
  }
  return null;
}

/** Only codes shaped like RFC 6749 error codes become label values (bounded cardinality). */
function errorLabel(code: string | null): string | null {
  return code !== null && /^[a-z_]{1,40}$/.test(code) ? code : code === null ? null : 'other';
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

declare module 'fastify' {
  interface FastifyRequest {
    /** When the request arrived (performance.now(), ms), for the request duration metric; -1 before. */
    metricsStartedAt: number;
    /** The error label of the response (errorLabel), set when it is sent. */
    metricsErrorLabel: string | null;
  }
}

export interface OperationsRoutes {
  metrics: GatehouseMetrics;
  readiness: ReadinessProbe;
}

export function registerOperationsRoutes(app: FastifyInstance, context: ProviderContext): OperationsRoutes {
  const readiness = new ReadinessProbe(context.store);
  const metrics = new GatehouseMetrics({
    events: context.events,
    poolStats: () => context.store.poolStats(),
    dialect: context.store.dialect,
    ready: () => readiness.lastResult?.ready ?? null,
  });
  app.addHook('onClose', async () => metrics.close());

  // Per-request values live on the request (decorated, so every request object has the same
  // shape), not in WeakMaps: a WeakMap entry per request cost a hash lookup and an ephemeron for
  // the garbage collector each (bench/profile.ts: 3% of an introspection's CPU with the
  // process.hrtime.bigint() allocations). performance.now() is a double, no BigInt.
  app.decorateRequest('metricsStartedAt', -1);
  app.decorateRequest('metricsErrorLabel', null);
  // Callback-style hooks: they run on every request, and an async hook costs a promise and a
  // microtask turn each.
  app.addHook('onRequest', (request, _reply, done) => {
    request.metricsStartedAt = performance.now();
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    request.metricsErrorLabel = errorLabel(responseErrorCode(request, reply, payload));
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const start = request.metricsStartedAt;
    if (start < 0) return done();
    metrics.observeRequest({
      // The route pattern (`/interaction/:id`), never the raw URL: unknown paths share one label.
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status: reply.statusCode,
      error: request.metricsErrorLabel,
      seconds: (performance.now() - start) / 1000,
    });
    done();
  });

  // Readiness: 200 while the database answers, 503 while it does not (this instance should get
  // no traffic then; it recovers by itself once the database is back).
  app.get('/readyz', { config: { responseKind: 'json' } }, async (request, reply) => {
    const result = await readiness.check();
    if (result.ready) return sendOAuthJson(reply, 200, { status: 'ok', database: 'ok' });
    request.log.warn({ err: result.error }, 'readiness check: the database is unreachable');
    reply.header('retry-after', '5');
    return sendOAuthJson(reply, 503, { status: 'unavailable', database: 'unreachable' });
  });

  // Metrics are operational detail, not for the public: served only with the configured bearer
  // token (RFC 6750 §2.1), and not at all when none is configured.
  const tokenDigest = context.settings.metricsToken ? sha256(context.settings.metricsToken) : null;
  app.get('/metrics', { config: { responseKind: 'json' } }, async (request, reply) => {
    if (tokenDigest === null) {
      return sendOAuthJson(reply, 404, {
        error: 'not_found',
        error_description: 'metrics are disabled: set GATEHOUSE_METRICS_TOKEN or metrics_token',
      });
    }
    const authorization = request.headers.authorization ?? '';
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization);
    // Compared as digests, in constant time: no timing hints about the token.
    if (!match || !timingSafeEqual(sha256(match[1]!), tokenDigest)) {
      reply.header('www-authenticate', `Bearer realm="gatehouse-metrics"${match ? ', error="invalid_token"' : ''}`);
      return sendOAuthJson(reply, 401, {
        error: 'invalid_token',
        error_description: 'GET /metrics needs Authorization: Bearer with the metrics token',
      });
    }
    await readiness.check();
    return reply
      .code(200)
      .header('content-type', METRICS_CONTENT_TYPE)
      .header('cache-control', 'no-store')
      .send(await metrics.render());
  });
  return { metrics, readiness };
}
