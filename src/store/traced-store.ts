/**
 * The store behind a tracing Proxy: each call of a group method (`store.codes.consume`,
 * `store.clients.get`, ...) and `transaction`, `ping`, `migrate` runs in a span named
 * `store.<group>.<method>` (`store.transaction`, ...), a child of the endpoint span. The
 * transaction's own store is wrapped too, so the calls inside it are spans of the transaction.
 * A flow id found in the arguments or the result (an interaction, code, grant or token record)
 * is set on the span and on the request's endpoint span (src/operations/tracing.ts).
 *
 * Without a registered OpenTelemetry SDK every call goes straight to the store: no span, no
 * context switch. Methods and groups are wrapped once and cached, so a traced store costs two
 * Proxy lookups per call.
 */
import { SpanKind, context, trace } from '@opentelemetry/api';
import { FLOW_ID_ATTRIBUTE, activeTracer, flowIdOf, recordFailure, setEndpointFlowId } from '../operations/tracing.js';
import type { Store } from './store.js';

/** Top-level methods that talk to the database, traced like the groups' methods. */
const TRACED_METHODS = new Set<PropertyKey>(['migrate', 'ping']);
/** Groups that are not database calls. */
const UNTRACED_GROUPS = new Set<PropertyKey>(['changes']);

const DB_SYSTEM = { sqlite: 'sqlite', postgres: 'postgresql' } as const;

type AnyFunction = (...args: unknown[]) => unknown;

function traced(name: string, dialect: Store['dialect'], method: AnyFunction, self: unknown, args: unknown[]): unknown {
  const tracer = activeTracer();
  if (tracer === null) return method.apply(self, args);
  const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes: { 'db.system': DB_SYSTEM[dialect] } });
  let flowId: string | null = null;
  for (const arg of args) {
    flowId = flowIdOf(arg);
    if (flowId !== null) break;
  }
  if (flowId !== null) {
    span.setAttribute(FLOW_ID_ATTRIBUTE, flowId);
    setEndpointFlowId(flowId);
  }
  const endWith = (result: unknown): unknown => {
    const resultFlowId = flowId === null ? flowIdOf(result) : null;
    if (resultFlowId !== null) {
      span.setAttribute(FLOW_ID_ATTRIBUTE, resultFlowId);
      setEndpointFlowId(resultFlowId);
    }
    span.end();
    return result;
  };
  const fail = (error: unknown): never => {
    recordFailure(span, error);
    span.end();
    throw error;
  };
  try {
    const result = context.with(trace.setSpan(context.active(), span), () => method.apply(self, args));
    return result instanceof Promise ? result.then(endWith, fail) : endWith(result);
  } catch (error) {
    return fail(error);
  }
}

function traceGroup(group: object, groupName: string, dialect: Store['dialect']): object {
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(group, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      let wrapped = methods.get(property);
      if (wrapped === undefined) {
        const name = `store.${groupName}.${String(property)}`;
        wrapped = (...args: unknown[]) => traced(name, dialect, value as AnyFunction, target, args);
        methods.set(property, wrapped);
      }
      return wrapped;
    },
  });
}

/** The store with a span around every database call (spans only while an SDK is registered). */
export function tracedStore(store: Store): Store {
  const cache = new Map<PropertyKey, unknown>();
  const proxy: Store = new Proxy(store, {
    get(target, property) {
      const cached = cache.get(property);
      if (cached !== undefined) return cached;
      const value = Reflect.get(target, property, target) as unknown;
      let result: unknown = value;
      if (property === 'transaction') {
        const transaction = value as Store['transaction'];
        result = <T>(fn: (store: Store) => Promise<T>): Promise<T> =>
          traced('store.transaction', target.dialect, transaction as AnyFunction, target, [
            (inner: Store) => fn(inner === target ? proxy : tracedStore(inner)),
          ]) as Promise<T>;
      } else if (typeof value === 'function') {
        const method = value as AnyFunction;
        result = TRACED_METHODS.has(property)
          ? (...args: unknown[]) => traced(`store.${String(property)}`, target.dialect, method, target, args)
          : (...args: unknown[]) => method.apply(target, args);
      } else if (typeof value === 'object' && value !== null && !UNTRACED_GROUPS.has(property)) {
        result = traceGroup(value, String(property), target.dialect);
      } else {
        return value;
      }
      cache.set(property, result);
      return result;
    },
  });
  return proxy;
}
