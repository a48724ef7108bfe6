/**
 * What the flow inspector records: one step per protocol request (or resource verification),
 * drawn as an arrow between two of four lanes, front or back channel, with its parameters, the
 * checks that ran, its timing and, when it failed, the explanation (flow-rules.ts).
 *
 * Secrets never enter a step: codes, tokens, client secrets, verifiers and assertions are
 * replaced by a short hash of their value (`#3fa1`), the same wherever the value appears, so a
 * reader can match "code #3fa1 issued here, redeemed there"; passwords are dropped entirely.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ValueComparison } from '../errors.js';

export type Lane = 'browser' | 'client' | 'gatehouse' | 'resource';
export const LANES: readonly Lane[] = ['browser', 'client', 'gatehouse', 'resource'];
export type Channel = 'front' | 'back';

/** A spec section, e.g. `RFC 7636 §4.6`, and where to read it. */
export interface SpecRef {
  label: string;
  url: string;
}

export interface FlowCheck {
  name: string;
  ok: boolean;
  detail: string;
  ref: SpecRef | null;
}

export interface FlowFailure {
  error: string;
  description: string;
  /** The rule that failed, in words. */
  rule: string;
  ref: SpecRef;
  comparison: ValueComparison | null;
  fixClient: string;
  fixOperator: string;
}

export interface FlowArrow {
  from: Lane;
  to: Lane;
  channel: Channel;
  title: string;
  params: Array<[string, string]>;
}

export interface FlowStep {
  id: string;
  flowId: string;
  at: number;
  durationMs: number;
  /** Which Gatehouse instance recorded it. */
  instance: string;
  request: FlowArrow;
  /** The answer (a redirect, a JSON body, a page), or null when none is drawn. */
  response: FlowArrow | null;
  status: number | null;
  checks: FlowCheck[];
  failure: FlowFailure | null;
  clientId: string | null;
  user: string | null;
  grantType: string | null;
  /** True for the step that ended a session (RP-Initiated Logout 1.0 §2: the logout went through). */
  signedOut?: boolean;
  /** For a back-channel logout delivery attempt: which delivery, and whether another attempt follows. */
  delivery?: { id: string; delivered: boolean; retrying: boolean };
  /** Where the step was read from when it is not the inspector's: the audit trail (`gatehouse flows`). */
  source?: 'audit';
}

export type FlowState =
  | { kind: 'in_progress' }
  | { kind: 'succeeded' }
  | { kind: 'signed_out' }
  | { kind: 'failed'; step: number };

export interface FlowSummary {
  flowId: string;
  clientId: string | null;
  user: string | null;
  grantType: string | null;
  state: FlowState;
  startedAt: number;
  lastAt: number;
  steps: number;
}

/** The short hash a secret is shown as: `#` and 4 hex digits of its SHA-256. */
export function secretHash(value: string): string {
  return `#${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 4)}`;
}

/** A key for the links table: never the secret itself (SHA-256, base64url). */
export function linkHash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

export function newStepId(): string {
  return randomBytes(12).toString('base64url');
}

/** Parameters whose values are secrets: shown as their short hash. */
const SECRET_PARAMS = new Set([
  'code',
  'code_verifier',
  'client_secret',
  'client_assertion',
  'refresh_token',
  'access_token',
  'id_token',
  'token',
  'subject_token',
  'actor_token',
  'assertion',
  'device_code',
  'logout_token',
  'id_token_hint',
  'request',
  'dpop',
]);
/** Parameters never shown at all, not even hashed. */
const DROPPED_PARAMS = new Set(['password', 'csrf_token']);

/** `code` → `code #3fa1`-style display values; passwords and CSRF tokens left out. */
export function redactParams(entries: Iterable<[string, string]>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, value] of entries) {
    if (DROPPED_PARAMS.has(name)) continue;
    out.push([
      name,
      SECRET_PARAMS.has(name) ? secretHash(value) : value.length > 200 ? `${value.slice(0, 200)}…` : value,
    ]);
  }
  return out;
}

/** A URL with its secret query parameters hashed (a redirect carrying a code). */
export function redactUrl(url: string): { base: string; params: Array<[string, string]> } {
  try {
    const parsed = new URL(url, 'http://relative.invalid');
    const params = redactParams(parsed.searchParams.entries());
    const base = url.startsWith('/') ? parsed.pathname : `${parsed.origin}${parsed.pathname}`;
    // An interaction id in the path is a bearer of the sign-in in progress: hashed too.
    return {
      base: base.replace(/\/interaction\/([^/]+)/, (_m, id: string) => `/interaction/${secretHash(id)}`),
      params,
    };
  } catch {
    return { base: '(unparsable URL)', params: [] };
  }
}

/**
 * The state of a flow: failed at its first failed step; in progress while a back-channel logout
 * delivery waits for its retry; signed out once a logout ended the session; succeeded once tokens
 * were issued; else in progress.
 *
 * A back-channel logout delivery counts by its final outcome (Back-Channel Logout 1.0 §2.8 and
 * the worker's retries): a failed attempt followed by a delivered one is no failure of the flow,
 * and only an attempt after which Gatehouse gave up is.
 */
export function flowState(steps: FlowStep[]): FlowState {
  const lastAttempt = new Map<string, number>();
  for (const [index, step] of steps.entries())
    if (step.delivery !== undefined) lastAttempt.set(step.delivery.id, index);
  let retrying = false;
  for (const [index, step] of steps.entries()) {
    if (step.failure === null) continue;
    const delivery = step.delivery;
    if (delivery !== undefined) {
      // Superseded by a later attempt of the same delivery: that one tells the outcome.
      if (lastAttempt.get(delivery.id) !== index) continue;
      if (delivery.retrying) {
        retrying = true;
        continue;
      }
    }
    return { kind: 'failed', step: index + 1 };
  }
  if (retrying) return { kind: 'in_progress' };
  if (steps.some((step) => step.signedOut === true)) return { kind: 'signed_out' };
  const issued = steps.some(
    (step) => step.request.title.endsWith(' /token') && step.status !== null && step.status < 300,
  );
  return issued ? { kind: 'succeeded' } : { kind: 'in_progress' };
}

export function summarize(flowId: string, steps: FlowStep[]): FlowSummary {
  const first = <K extends 'clientId' | 'user' | 'grantType'>(key: K) =>
    steps.find((step) => step[key] !== null)?.[key] ?? null;
  return {
    flowId,
    clientId: first('clientId'),
    user: first('user'),
    grantType: first('grantType'),
    state: flowState(steps),
    startedAt: steps[0]?.at ?? 0,
    lastAt: steps.at(-1)?.at ?? 0,
    steps: steps.length,
  };
}

export function describeState(state: FlowState): string {
  if (state.kind === 'failed') return `failed at step ${state.step}`;
  if (state.kind === 'signed_out') return 'signed out';
  return state.kind === 'succeeded' ? 'succeeded' : 'in progress';
}
