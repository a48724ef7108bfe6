/**
 * One OpenTelemetry span per HTTP request (src/operations/tracing.ts): named after the method
 * and route pattern (`POST /token`, `GET /interaction/:id`), never the raw URL, with the
 * semantic-convention attributes http.request.method, http.route and
 * http.response.status_code, and `gatehouse.flow_id` once the flow is known: from the store
 * records the handler reads or writes (src/store/traced-store.ts) and from the protocol events
 * it emits. The span starts when the request arrives and ends when the response is sent; the
 * route handler runs with it as the active span, so store-call spans are its children.
 *
 * Without a registered SDK nothing is created: the hooks return at once.
 */
import { SpanKind, SpanStatusCode, context as otelContext, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { ProviderContext } from '../core/context.js';
import { activeTracer, setEndpointFlowId, withEndpointSpan } from '../operations/tracing.js';

/** Must run before the routes are registered (it wraps their handlers as they are added). */
export function traceRequests(app: FastifyInstance, context: ProviderContext): void {
  const spans = new WeakMap<FastifyRequest, Span>();

  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function tracedHandler(this: FastifyInstance, request, reply) {
      const span = spans.get(request);
      if (span === undefined) return handler.call(this, request, reply);
      return otelContext.with(withEndpointSpan(otelContext.active(), span), () => handler.call(this, request, reply));
    } as RouteHandlerMethod;
  });

  // Callback-style hooks, like the metrics hooks: no promise per request.
  app.addHook('onRequest', (request, _reply, done) => {
    const tracer = activeTracer();
    if (tracer !== null) {
      const route = request.routeOptions.url;
      const span = tracer.startSpan(route === undefined ? request.method : `${request.method} ${route}`, {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, ...(route === undefined ? {} : { 'http.route': route }) },
      });
      spans.set(request, span);
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span !== undefined) {
      spans.delete(request);
      span.setAttribute('http.response.status_code', reply.statusCode);
      // OpenTelemetry HTTP semantic conventions: a server span is an error for 5xx only.
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    const span = spans.get(request);
    if (span !== undefined) {
      spans.delete(request);
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection' });
      span.end();
    }
    done();
  });

  // Every protocol event of a flow carries its id; events are emitted in the handler's context.
  const unsubscribe = context.events.onAny((event) => {
    const flowId = (event as { flowId?: unknown }).flowId;
    if (typeof flowId === 'string') setEndpointFlowId(flowId);
  });
  app.addHook('onClose', (_instance, done) => {
    unsubscribe();
    done();
  });
}
