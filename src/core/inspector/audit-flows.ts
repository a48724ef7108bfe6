/**
 * The flow story from the audit trail, for `gatehouse flows`: the audited events of a flow
 * (they carry its `flowId`, src/core/events.ts) become the steps of the same story the inspector
 * tells, so a flow shows also when the inspector was off (production) or after its steps
 * expired. Where the inspector recorded steps, those are the story (they hold the request's
 * parameters and checks); audit events outside the span they cover fill in the rest.
 *
 * The audit trail never holds a secret (src/core/audit/audit-trail.ts), so neither does a step
 * made from it: its parameters are the event's identifiers and words.
 */
import type { AuditEvent } from '../../store/store.js';
import type { AUDITED_EVENT_TYPES } from '../audit/audit-trail.js';
import type { FlowArrow, FlowCheck, FlowFailure, FlowStep, Lane } from './flow-model.js';
import { explainFailure, rfc } from './flow-rules.js';

/** The audited event types that are steps of a flow. */
export const FLOW_EVENT_TYPES = [
  'authorization.refused',
  'login.succeeded',
  'login.failed',
  'consent.granted',
  'consent.denied',
  'code.issued',
  'code.refused',
  'code.replayed',
  'token.issued',
  'token.refused',
  'token.revoked',
  'refresh.reused',
  'logout.succeeded',
] as const satisfies ReadonlyArray<(typeof AUDITED_EVENT_TYPES)[number]>;

/** A logout names no flow in its event (a session spans many): it is a flow of its own, by its audit id. */
export function logoutFlowId(event: AuditEvent): string {
  return `logout-${event.id ?? event.at}`;
}

/** How far (ms) an audit event may lie outside the span of the inspector's steps and still be one of them. */
const SAME_REQUEST_MS = 1000;

interface Shape {
  endpoint: 'authorize' | 'interaction' | 'token' | 'revoke' | 'logout';
  from: Lane;
  to: Lane;
  title: string;
}

function shapeOf(type: string): Shape {
  switch (type) {
    case 'authorization.refused':
      return { endpoint: 'authorize', from: 'browser', to: 'gatehouse', title: '/authorize (authorization request)' };
    case 'login.succeeded':
    case 'login.failed':
      return { endpoint: 'interaction', from: 'browser', to: 'gatehouse', title: 'POST /interaction (sign-in)' };
    case 'consent.granted':
    case 'consent.denied':
      return { endpoint: 'interaction', from: 'browser', to: 'gatehouse', title: 'POST /interaction (consent)' };
    case 'code.issued':
      return {
        endpoint: 'authorize',
        from: 'gatehouse',
        to: 'browser',
        title: 'redirect → the client’s redirect_uri with the code',
      };
    case 'token.revoked':
      return { endpoint: 'revoke', from: 'client', to: 'gatehouse', title: 'POST /revoke' };
    case 'logout.succeeded':
      return { endpoint: 'logout', from: 'browser', to: 'gatehouse', title: '/logout (RP-Initiated Logout)' };
    default:
      return { endpoint: 'token', from: 'client', to: 'gatehouse', title: 'POST /token' };
  }
}

const FAILURES = new Set([
  'authorization.refused',
  'consent.denied',
  'code.refused',
  'code.replayed',
  'token.refused',
  'refresh.reused',
]);

const text = (value: unknown): string | null =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : Array.isArray(value)
        ? value.join(' ')
        : null;

/** The event's words as parameters (identifiers only: the trail holds no secret). */
function paramsOf(events: AuditEvent[]): Array<[string, string]> {
  const params: Array<[string, string]> = [];
  for (const event of events) {
    if (event.clientId !== null && !params.some(([name]) => name === 'client_id'))
      params.push(['client_id', event.clientId]);
    for (const [name, value] of Object.entries(event.details)) {
      if (name === 'error' || name === 'description' || name === 'source' || name === 'actor') continue;
      const shown = text(value);
      if (shown !== null && shown !== '') params.push([name, shown]);
    }
  }
  return params;
}

function checksOf(events: AuditEvent[]): FlowCheck[] {
  const checks: FlowCheck[] = [];
  for (const event of events) {
    if (event.type === 'login.succeeded')
      checks.push({ name: 'username and password', ok: true, detail: 'signed in', ref: null });
    if (event.type === 'login.failed')
      checks.push({ name: 'username and password', ok: false, detail: 'unknown user or wrong password', ref: null });
    if (event.type === 'consent.granted')
      checks.push({
        name: 'consent',
        ok: true,
        detail: `granted: ${text(event.details['scope']) ?? ''}`,
        ref: rfc(6749, '4.1.1'),
      });
    if (event.type === 'token.issued')
      checks.push({
        name: 'tokens issued',
        ok: true,
        detail: text(event.details['grantType']) ?? '',
        ref: rfc(6749, '5.1'),
      });
  }
  return checks;
}

function failureOf(
  events: AuditEvent[],
  shape: Shape,
  grantType: string | null,
): { failure: FlowFailure; check: FlowCheck } | null {
  if (!events.some((event) => FAILURES.has(event.type))) return null;
  const refused = events.find((event) => typeof event.details['error'] === 'string');
  const error =
    text(refused?.details['error']) ??
    (events.some((event) => event.type === 'consent.denied') ? 'access_denied' : 'invalid_grant');
  const description =
    text(refused?.details['description']) ??
    (events.some((event) => event.type === 'consent.denied') ? 'the user denied the request' : '');
  return explainFailure({
    endpoint: shape.endpoint,
    ok: false,
    grantType,
    error,
    description,
    comparison: null,
    events: events.map((event) => ({
      type: event.type,
      ...(typeof event.details['reason'] === 'string' ? { reason: event.details['reason'] } : {}),
      ...(typeof event.details['detail'] === 'string' ? { detail: event.details['detail'] } : {}),
    })),
    paramNames: new Set(),
    codeChallengeMethod: null,
    clientAuth: null,
  });
}

/** One step from the audit events of one request (in time order). */
function auditStep(flowId: string, events: AuditEvent[]): FlowStep {
  const first = events[0]!;
  const shape = shapeOf(first.type);
  const grantType =
    events.map((event) => text(event.details['grantType'])).find((value) => value !== null) ??
    (shape.endpoint === 'authorize' || shape.endpoint === 'interaction' ? 'authorization_code' : null);
  const explained = failureOf(events, shape, grantType);
  const failure = explained?.failure ?? null;
  const checks = checksOf(events);
  if (explained !== null) checks.push(explained.check);
  const issued = events.some((event) => event.type === 'token.issued');
  const front = shape.endpoint !== 'token' && shape.endpoint !== 'revoke';
  const request: FlowArrow = {
    from: shape.from,
    to: shape.to,
    channel: front ? 'front' : 'back',
    title: shape.title,
    params: paramsOf(events),
  };
  const user = events.map((event) => event.username ?? event.userId).find((value) => value !== null) ?? null;
  return {
    id: `audit-${first.id ?? first.at}`,
    flowId,
    at: first.at,
    durationMs: (events.at(-1)?.at ?? first.at) - first.at,
    instance: 'audit trail',
    request,
    response:
      failure !== null
        ? {
            from: shape.to,
            to: shape.from,
            channel: request.channel,
            title: 'refused',
            params: [
              ['error', failure.error],
              ['error_description', failure.description],
            ],
          }
        : issued
          ? { from: 'gatehouse', to: 'client', channel: 'back', title: '200 JSON (tokens)', params: [] }
          : null,
    status: issued && failure === null ? 200 : null,
    checks,
    failure,
    clientId: events.map((event) => event.clientId).find((value) => value !== null) ?? null,
    user,
    grantType,
    ...(events.some((event) => event.type === 'logout.succeeded') ? { signedOut: true } : {}),
    source: 'audit',
  };
}

/** Whether `event` is part of the same request as the events of `group` (one token request emits code.refused, then token.refused). */
function sameRequest(group: AuditEvent[], event: AuditEvent): boolean {
  const last = group.at(-1)!;
  if (event.at - last.at > SAME_REQUEST_MS) return false;
  const endpoint = shapeOf(event.type).endpoint;
  if (endpoint !== 'token' || shapeOf(last.type).endpoint !== 'token') return false;
  // token.issued and token.refused end a token request.
  return !group.some((known) => known.type === 'token.issued' || known.type === 'token.refused');
}

/** Groups audit events (any order) by flow into steps, each flow's steps in time order. */
export function auditFlowSteps(events: AuditEvent[]): Map<string, FlowStep[]> {
  const byFlow = new Map<string, AuditEvent[]>();
  const ordered = [...events].sort((a, b) => a.at - b.at || (a.id ?? 0) - (b.id ?? 0));
  for (const event of ordered) {
    if (!(FLOW_EVENT_TYPES as readonly string[]).includes(event.type)) continue;
    const flowId = event.flowId ?? (event.type === 'logout.succeeded' ? logoutFlowId(event) : null);
    if (flowId === null) continue;
    const list = byFlow.get(flowId) ?? [];
    list.push(event);
    byFlow.set(flowId, list);
  }
  const flows = new Map<string, FlowStep[]>();
  for (const [flowId, list] of byFlow) {
    const groups: AuditEvent[][] = [];
    for (const event of list) {
      const group = groups.at(-1);
      if (group !== undefined && sameRequest(group, event)) group.push(event);
      else groups.push([event]);
    }
    flows.set(
      flowId,
      groups.map((group) => auditStep(flowId, group)),
    );
  }
  return flows;
}

/** Whether an audit step happened within the span of the inspector's steps of its flow (so they tell it already). */
export function coveredBy(step: FlowStep, recorded: FlowStep[]): boolean {
  if (recorded.length === 0) return false;
  const start = Math.min(...recorded.map((known) => known.at));
  const end = Math.max(...recorded.map((known) => known.at + known.durationMs));
  return step.at >= start - SAME_REQUEST_MS && step.at <= end + SAME_REQUEST_MS;
}

/** Whether an audit-only logout flow is a logout the inspector recorded (in a flow of its own naming). */
function loggedOutBy(step: FlowStep, recorded: Iterable<FlowStep[]>): boolean {
  for (const steps of recorded)
    for (const known of steps)
      if (known.signedOut === true && Math.abs(step.at - known.at) <= known.durationMs + SAME_REQUEST_MS) return true;
  return false;
}

/**
 * The flows told by the audit trail and by the inspector together: a flow's inspector steps,
 * with the audit steps they do not cover (before the inspector was turned on or after it was
 * turned off, or once its steps expired); a flow only audited, from the audit trail.
 */
export function mergeFlows(
  audited: Map<string, FlowStep[]>,
  recorded: Map<string, FlowStep[]>,
): Map<string, FlowStep[]> {
  const merged = new Map<string, FlowStep[]>();
  for (const [flowId, steps] of recorded) merged.set(flowId, [...steps]);
  for (const [flowId, steps] of audited) {
    const known = recorded.get(flowId) ?? [];
    if (
      known.length === 0 &&
      steps.every((step) => step.signedOut === true) &&
      loggedOutBy(steps[0]!, recorded.values())
    )
      continue;
    const extra = steps.filter((step) => !coveredBy(step, known));
    if (extra.length === 0) continue;
    merged.set(
      flowId,
      [...known, ...extra].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id)),
    );
  }
  return merged;
}
