/**
 * OpenTelemetry tracing through `@opentelemetry/api` only: a span per HTTP endpoint (see
 * src/http/tracing-hooks.ts) and per store call (src/store/traced-store.ts), each carrying the
 * authorization flow's id as `gatehouse.flow_id` once it is known (the id every protocol event
 * of one flow carries, src/core/events.ts).
 *
 * Gatehouse never starts an SDK. Without one the API's global tracer provider is the no-op
 * provider, and then no span is created at all: `activeTracer()` answers null and the wrappers
 * call straight through, so an untraced server pays one provider lookup per endpoint and store
 * call. An operator who starts an SDK (docs/operations.md, Tracing) gets the spans exported.
 */
import {
  ProxyTracerProvider,
  SpanStatusCode,
  createContextKey,
  context,
  trace,
  type Context,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';

export const TRACER_NAME = 'gatehouse';
/** The attribute holding the flow id (the `flowId` of the flow's events). */
export const FLOW_ID_ATTRIBUTE = 'gatehouse.flow_id';

/** The provider answered while no SDK is registered (the API's no-op provider). */
const NOOP_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate();

let tracedProvider: TracerProvider | null = null;
let tracer: Tracer | null = null;

/** The `gatehouse` tracer of the registered SDK, or null when no SDK is registered. */
export function activeTracer(): Tracer | null {
  const global = trace.getTracerProvider();
  const provider = global instanceof ProxyTracerProvider ? global.getDelegate() : global;
  if (provider === NOOP_PROVIDER) return null;
  if (provider !== tracedProvider) {
    tracedProvider = provider;
    tracer = provider.getTracer(TRACER_NAME);
  }
  return tracer;
}

/** Where the endpoint span of the current request is kept in the active context. */
const ENDPOINT_SPAN = createContextKey('gatehouse endpoint span');

export function withEndpointSpan(parent: Context, span: Span): Context {
  return trace.setSpan(parent, span).setValue(ENDPOINT_SPAN, span);
}

/** Sets the flow id on the current request's endpoint span, when there is one. */
export function setEndpointFlowId(flowId: string): void {
  const span = context.active().getValue(ENDPOINT_SPAN) as Span | undefined;
  span?.setAttribute(FLOW_ID_ATTRIBUTE, flowId);
}

/** Records a failure on a span (exception event, status ERROR). */
export function recordFailure(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, ...(error instanceof Error ? { message: error.message } : {}) });
}

/**
 * The flow id a value carries: its own `flowId` (an interaction, code, grant, token record,
 * event) or that of a record it wraps one level down (`{ status, code }` of a redemption).
 */
export function flowIdOf(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const own = (value as { flowId?: unknown }).flowId;
  if (typeof own === 'string') return own;
  if (Array.isArray(value)) return null;
  for (const key in value) {
    const nested = (value as Record<string, unknown>)[key];
    if (typeof nested === 'object' && nested !== null && !Array.isArray(nested)) {
      const flowId = (nested as { flowId?: unknown }).flowId;
      if (typeof flowId === 'string') return flowId;
    }
  }
  return null;
}
