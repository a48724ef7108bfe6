/**
 * The flow inspector's recording, at the HTTP boundary: installed only while the inspector is
 * on (installGatehouse checks context.inspector once), so when it is off no hook, no listener and
 * no store write exists.
 *
 * Each protocol request runs its handler inside an AsyncLocalStorage context that collects the
 * protocol events it emits (src/core/events.ts); when the response is sent, the request, the
 * answer and those events become one flow step (src/core/inspector/step-builder.ts). In dev mode
 * an error response names its flow: JSON in a `Gatehouse-Flow` header (never the body), HTML
 * pages with a link.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { ProviderContext } from '../core/context.js';
import { OAuthError, UnsafeAuthorizationRequest, type ValueComparison } from '../core/errors.js';
import type { TimedEvent } from '../core/events.js';
import type { FlowInspector } from '../core/inspector/flow-inspector.js';
import { newStepId } from '../core/inspector/flow-model.js';
import {
  buildStep,
  createdKeys,
  eventFlowId,
  lookupKeys,
  type ObservedRequest,
  sessionKey,
} from '../core/inspector/step-builder.js';
import { Params } from '../core/params.js';
import { escapeHtml } from '../ui/html.js';

interface Capture {
  startedAt: number;
  events: TimedEvent[];
  error: ObservedRequest['error'];
  body: string | undefined;
  flowId: string | undefined;
  /** Settles the links announced to the inspector (expect) once the flow is known. */
  expected: Array<(flowId: string | undefined) => void>;
}

/** Which endpoint a route is, by its pattern (also under an embedding app's prefix); undefined: not recorded. */
function endpointOf(route: string | undefined): string | undefined {
  if (route === undefined) return undefined;
  const rules: Array<[RegExp, string]> = [
    [/\/authorize$/, 'authorize'],
    [/\/interaction\/:id(\/\w+)?$/, 'interaction'],
    [/\/token$/, 'token'],
    [/\/par$/, 'par'],
    [/\/revoke$/, 'revoke'],
    [/\/introspect$/, 'introspect'],
    [/\/userinfo$/, 'userinfo'],
    [/\/logout(\/confirm)?$/, 'logout'],
    [/\/device_authorization$/, 'device_authorization'],
    [/\/device(\/[\w-]+)?$/, 'device'],
  ];
  return rules.find(([pattern]) => pattern.test(route))?.[1];
}

function requestParams(request: FastifyRequest): Array<[string, string]> {
  const url = request.raw.url ?? '';
  const question = url.indexOf('?');
  const query = question < 0 ? [] : Params.fromUrlEncoded(url.slice(question + 1)).entries();
  const body = request.body instanceof Params ? request.body.entries() : [];
  return [...query, ...body];
}

function errorOf(error: unknown): ObservedRequest['error'] {
  if (error instanceof OAuthError) return { error: error.error, description: error.description, comparison: null };
  if (error instanceof UnsafeAuthorizationRequest) {
    const comparison: ValueComparison | null = error.comparison;
    return { error: 'invalid_request', description: `${error.title}: ${error.detail}`, comparison };
  }
  return null;
}

/** The URL of one flow in the inspector. */
export function flowUrl(issuer: string, flowId: string): string {
  return `${issuer}/_gatehouse/flows/${encodeURIComponent(flowId)}`;
}

export function recordFlows(app: FastifyInstance, context: ProviderContext, inspector: FlowInspector): void {
  const storage = new AsyncLocalStorage<Capture>();
  const captures = new WeakMap<FastifyRequest, Capture>();

  app.addHook('onRoute', function inspectorOnRoute(route) {
    if (endpointOf(route.url) === undefined) return;
    const handler = route.handler;
    route.handler = function recordedHandler(this: FastifyInstance, request, reply) {
      const capture: Capture = {
        startedAt: Date.now(),
        events: [],
        error: null,
        body: undefined,
        flowId: undefined,
        expected: [],
      };
      captures.set(request, capture);
      return storage.run(capture, () => handler.call(this, request, reply));
    } as RouteHandlerMethod;
  });

  const unsubscribe = context.events.onAny((event) => {
    const capture = storage.getStore();
    if (capture === undefined) return;
    capture.events.push(event);
    // The logout wakes the delivery worker now; its deliveries wait for the logout's flow (by sid).
    if (event.type === 'logout.succeeded' && event.sid !== null && event.backchannelClientIds.length > 0)
      capture.expected.push(inspector.expect(sessionKey(event.sid)));
  });
  app.addHook('onClose', function inspectorOnClose(_instance, done) {
    unsubscribe();
    done();
  });

  app.addHook('onError', async function inspectorOnError(request, _reply, error) {
    const capture = captures.get(request);
    if (capture !== undefined) capture.error = errorOf(error);
  });

  const observe = (request: FastifyRequest, status: number, location: string | undefined, capture: Capture) =>
    ({
      endpoint: endpointOf(request.routeOptions.url) ?? 'other',
      method: request.method,
      path: (request.raw.url ?? '/').split('?')[0] ?? '/',
      params: requestParams(request),
      authorization: request.headers.authorization,
      status,
      location,
      body: capture.body,
      error: capture.error,
      events: capture.events,
      startedAt: capture.startedAt,
      durationMs: Date.now() - capture.startedAt,
    }) satisfies ObservedRequest;

  async function resolveFlow(observed: ObservedRequest): Promise<string> {
    const fromEvents = eventFlowId(observed.events);
    if (fromEvents !== undefined) return fromEvents;
    for (const key of lookupKeys(observed)) {
      const flowId = await inspector.flowOf(key);
      if (flowId !== undefined) return flowId;
    }
    return newStepId();
  }

  // The flow is known before the answer leaves, so that an error response can name it.
  app.addHook('onSend', async function inspectorOnSend(request, reply, payload) {
    const capture = captures.get(request);
    if (capture === undefined) return payload;
    if (typeof payload === 'string') capture.body = payload;
    const location = reply.getHeader('location');
    const observed = observe(request, reply.statusCode, typeof location === 'string' ? location : undefined, capture);
    const flowId = await resolveFlow(observed);
    capture.flowId = flowId;
    // Before the answer leaves: the next request of the flow (on any instance) finds it.
    await Promise.all(createdKeys(observed).map((key) => inspector.link(key, flowId)));
    for (const settle of capture.expected.splice(0)) settle(flowId);
    const redirectedError = typeof location === 'string' && /[?&#]error=/.test(location);
    if (reply.statusCode < 400 && !redirectedError) return payload;
    const url = flowUrl(context.settings.issuer, flowId);
    reply.header('gatehouse-flow', url);
    if (typeof payload === 'string' && String(reply.getHeader('content-type') ?? '').startsWith('text/html'))
      return payload.replace(
        '</main>',
        `<p class="note center" id="inspector-link"><a href="${escapeHtml(url)}">See this flow in the inspector</a></p>\n</main>`,
      );
    return payload;
  });

  app.addHook('onResponse', function inspectorOnResponse(request, reply, done) {
    const capture = captures.get(request);
    // An answer that never went through onSend: nothing to wait for.
    for (const settle of capture?.expected.splice(0) ?? []) settle(undefined);
    if (capture !== undefined && capture.flowId !== undefined) {
      const flowId = capture.flowId;
      const location = reply.getHeader('location');
      const observed = observe(request, reply.statusCode, typeof location === 'string' ? location : undefined, capture);
      inspector.track(
        (async () => {
          const method = observed.params.some(([name]) => name === 'code_verifier')
            ? await inspector.codeChallengeMethod(flowId)
            : undefined;
          const step = buildStep({ ...observed, codeChallengeMethod: method ?? null }, flowId, inspector.instance);
          inspector.record(step);
        })(),
      );
    }
    done();
  });
}
