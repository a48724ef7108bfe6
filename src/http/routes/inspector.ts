/**
 * The flow inspector's routes, registered only while it is on (otherwise `/_gatehouse/*` is the
 * ordinary 404): the live list of flows (`/_gatehouse/flows`, kept live over Server-Sent Events by
 * `/_gatehouse/inspector.js`), one flow (`/_gatehouse/flows/:id`), and the dev-only endpoint where
 * `gatehouse/resource` reports its verification outcomes (`POST /_gatehouse/resource-events`,
 * see the verifier's `reportTo`). With inspector.access_token set, every request must carry it
 * (`Authorization: Bearer`, or as the Basic password, which a browser prompts for).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProviderContext } from '../../core/context.js';
import { InvalidRequest } from '../../core/errors.js';
import type { FlowInspector } from '../../core/inspector/flow-inspector.js';
import { describeState, newStepId, summarize } from '../../core/inspector/flow-model.js';
import { buildStep, lookupKeys, type ObservedRequest } from '../../core/inspector/step-builder.js';
import { Params } from '../../core/params.js';
import { INSPECTOR_CSP, INSPECTOR_SCRIPT, renderFlowList, renderFlowPage } from '../../ui/inspector-pages.js';
import { sendOAuthJson } from '../error-responses.js';
import { sendHtml } from '../html-response.js';

export const INSPECTOR_BASE = '/_gatehouse';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The credential of a request: a Bearer token, or the password of Basic credentials. */
function credentialOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization ?? '';
  const bearer = /^bearer +(\S+)$/i.exec(header)?.[1];
  if (bearer !== undefined) return bearer;
  const basic = /^basic +(\S+)$/i.exec(header)?.[1];
  if (basic === undefined) return undefined;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

export function registerInspectorRoutes(
  app: FastifyInstance,
  context: ProviderContext,
  inspector: FlowInspector,
): void {
  const token = context.settings.inspector.accessToken;
  const base = `${new URL(context.settings.issuer).pathname.replace(/\/+$/, '')}${INSPECTOR_BASE}`;
  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    if (token === undefined) return;
    const given = credentialOf(request);
    if (given !== undefined && sameSecret(given, token)) return;
    reply.header('www-authenticate', 'Basic realm="gatehouse inspector", charset="UTF-8"');
    return sendOAuthJson(reply, 401, {
      error: 'invalid_token',
      error_description: 'the flow inspector needs its access token (inspector.access_token)',
    });
  };
  const html = { config: { responseKind: 'html' as const }, preHandler: guard };
  const json = { config: { responseKind: 'json' as const }, preHandler: guard };

  app.get(`${INSPECTOR_BASE}/flows`, html, async (_request, reply) =>
    sendHtml(reply, 200, renderFlowList(await inspector.recent({ limit: 100 }), base), INSPECTOR_CSP),
  );

  app.get<{ Params: { id: string } }>(`${INSPECTOR_BASE}/flows/:id`, html, async (request, reply) => {
    const steps = await inspector.flow(request.params.id);
    if (steps.length === 0) throw new InvalidRequest('no such flow (it may have expired: inspector.retention_minutes)');
    return sendHtml(
      reply,
      200,
      renderFlowPage(request.params.id, steps, summarize(request.params.id, steps), base),
      INSPECTOR_CSP,
    );
  });

  app.get(`${INSPECTOR_BASE}/inspector.js`, json, async (_request, reply) =>
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(INSPECTOR_SCRIPT),
  );

  // Server-Sent Events: one `flow` event with the flow's summary whenever a step is recorded here.
  const streams = new Set<() => void>();
  app.get(`${INSPECTOR_BASE}/flows/events`, json, async (request, reply) => {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    raw.write(': flows\n\n');
    const unsubscribe = inspector.subscribe((summary) => {
      raw.write(`event: flow\ndata: ${JSON.stringify({ ...summary, stateText: describeState(summary.state) })}\n\n`);
    });
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
    heartbeat.unref();
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(end);
      raw.end();
    };
    streams.add(end);
    request.raw.on('close', end);
  });
  // Open streams would hold a shutdown until its drain timeout.
  app.addHook('preClose', (done) => {
    for (const end of [...streams]) end();
    done();
  });

  // A resource server's verification outcome (gatehouse/resource, option reportTo).
  app.post(`${INSPECTOR_BASE}/resource-events`, json, async (request, reply) => {
    const params = request.body instanceof Params ? request.body : Params.fromEntries([]);
    const outcome = params.get('outcome');
    if (outcome !== 'accepted' && outcome !== 'rejected')
      throw new InvalidRequest('outcome must be accepted or rejected');
    const jti = params.get('jti');
    const now = Date.now();
    const observed: ObservedRequest = {
      endpoint: 'resource',
      method: params.get('method') ?? 'GET',
      path: params.get('path') ?? '/',
      params: [
        ...(jti !== undefined ? ([['jti', jti]] as Array<[string, string]>) : []),
        ...(params.get('scope') !== undefined
          ? ([['required scope', params.get('scope')!]] as Array<[string, string]>)
          : []),
      ],
      authorization: undefined,
      status: outcome === 'accepted' ? 200 : 401,
      location: undefined,
      body: undefined,
      error:
        outcome === 'rejected'
          ? {
              error: params.get('error') ?? 'invalid_token',
              description: params.get('error_description') ?? '',
              comparison: null,
            }
          : null,
      events: [],
      startedAt: now,
      durationMs: Number.parseInt(params.get('duration_ms') ?? '0', 10) || 0,
      resource: { name: params.get('resource') ?? 'resource', accepted: outcome === 'accepted' },
    };
    let flowId: string | undefined;
    for (const key of lookupKeys(observed)) flowId ??= await inspector.flowOf(key);
    flowId ??= newStepId();
    const step = buildStep(observed, flowId, inspector.instance);
    step.clientId = params.get('client_id') ?? null;
    inspector.record(step);
    return sendOAuthJson(reply, 202, { flow: flowId });
  });
}
