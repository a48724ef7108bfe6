/**
 * Turns one observed request (what came in, what went out, the protocol events it emitted) into
 * a flow step: which lanes and channel its arrows take, its parameters with secrets hashed, the
 * checks it passed, and for a failure the explanation (flow-rules.ts). Also names the keys that
 * tie the request to its flow (a code, a refresh token, a jti, an interaction), and the keys its
 * answer creates.
 */
import { decodeJwt } from 'jose';
import type { ValueComparison } from '../errors.js';
import type { TimedEvent } from '../events.js';
import { parseBasicAuthorization } from '../clients/client-authentication.js';
import {
  type FlowArrow,
  type FlowStep,
  type Lane,
  linkHash,
  newStepId,
  redactParams,
  redactUrl,
  secretHash,
} from './flow-model.js';
import { explainFailure, passedChecks, type StepOutcome } from './flow-rules.js';

export interface ObservedRequest {
  /** `authorize`, `interaction`, `token`, `par`, `revoke`, `introspect`, `userinfo`, `logout`, `device`, `register`, `resource`. */
  endpoint: string;
  method: string;
  /** The path as drawn, e.g. `/token` (an interaction id is hashed by the builder). */
  path: string;
  params: Array<[string, string]>;
  authorization: string | undefined;
  status: number;
  location: string | undefined;
  /** The response body, for a JSON token response or a form_post page. */
  body: string | undefined;
  error: { error: string; description: string; comparison: ValueComparison | null } | null;
  events: TimedEvent[];
  startedAt: number;
  durationMs: number;
  /** The flow's PKCE method from its authorization request, when known. */
  codeChallengeMethod?: string | null;
  /** Set for a step reported by a resource server (its lanes and outcome). */
  resource?: { name: string; accepted: boolean };
}

const FRONT = new Set(['authorize', 'interaction', 'logout', 'device']);

/** A JWT's jti without verifying it: only to find the flow it belongs to. */
export function jtiOf(token: string): string | undefined {
  try {
    const jti = decodeJwt(token).jti;
    return typeof jti === 'string' ? jti : undefined;
  } catch {
    return undefined;
  }
}

function clientAuthOf(params: Map<string, string>, authorization: string | undefined): string | null {
  let basic: { clientId: string } | undefined;
  try {
    basic = parseBasicAuthorization(authorization);
  } catch {
    basic = undefined;
  }
  if (basic !== undefined) return 'client_secret_basic';
  if (params.has('client_assertion')) return 'client assertion JWT (private_key_jwt or client_secret_jwt)';
  if (params.has('client_secret')) return 'client_secret_post';
  if (params.has('client_id')) return 'none (public client)';
  return null;
}

function clientIdOf(observed: ObservedRequest, params: Map<string, string>): string | null {
  for (const event of observed.events) {
    const clientId = (event as { clientId?: unknown }).clientId;
    if (typeof clientId === 'string') return clientId;
  }
  try {
    const basic = parseBasicAuthorization(observed.authorization);
    if (basic !== undefined) return basic.clientId;
  } catch {
    // A malformed header names no client.
  }
  return params.get('client_id') ?? null;
}

function userOf(observed: ObservedRequest): string | null {
  for (const event of observed.events) {
    const username = (event as { username?: unknown }).username;
    if (event.type === 'login.succeeded' && typeof username === 'string') return username;
  }
  for (const event of observed.events) {
    const userId = (event as { userId?: unknown }).userId;
    if (typeof userId === 'string') return userId;
  }
  return null;
}

/** The link key of a session ended by a logout, by its `sid`: its back-channel deliveries find the logout's flow by it. */
export function sessionKey(sid: string): string {
  return `sid:${linkHash(sid)}`;
}

/** The link key of a logout confirmation form, by its CSRF token (hashed: the token is a secret). */
function logoutFormKey(csrfToken: string): string {
  return `logout_form:${linkHash(csrfToken)}`;
}

/** What the request names that belongs to an earlier step of its flow. */
export function lookupKeys(observed: ObservedRequest): string[] {
  const keys: string[] = [];
  const interaction = /\/interaction\/([^/]+)/.exec(observed.path)?.[1];
  if (interaction !== undefined) keys.push(`interaction:${linkHash(interaction)}`);
  for (const [name, value] of observed.params) {
    if (name === 'code') keys.push(`code:${linkHash(value)}`);
    if (name === 'refresh_token') keys.push(`refresh:${linkHash(value)}`);
    if (name === 'token' || name === 'access_token') {
      const jti = jtiOf(value);
      keys.push(jti !== undefined ? `jti:${jti}` : `refresh:${linkHash(value)}`);
    }
    if (name === 'jti') keys.push(`jti:${value}`);
    // RP-Initiated Logout 1.0 §2: the ID token the client was issued names the flow it came from.
    if (name === 'id_token_hint') keys.push(`id_token:${linkHash(value)}`);
    // The confirmation of a logout asked without id_token_hint (§2): its form names the asking step.
    if (name === 'csrf_token' && observed.endpoint === 'logout') keys.push(logoutFormKey(value));
  }
  const bearer = /^(?:bearer|dpop) +(\S+)$/i.exec(observed.authorization ?? '')?.[1];
  const jti = bearer !== undefined ? jtiOf(bearer) : undefined;
  if (jti !== undefined) keys.push(`jti:${jti}`);
  return keys;
}

/** The flow id the request's own events carry, if any. */
export function eventFlowId(events: TimedEvent[]): string | undefined {
  for (const event of events) {
    const flowId = (event as { flowId?: unknown }).flowId;
    if (typeof flowId === 'string') return flowId;
  }
  return undefined;
}

function jsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The keys the answer creates: the interaction and code it hands out, the tokens it issues. */
export function createdKeys(observed: ObservedRequest): string[] {
  const keys: string[] = [];
  for (const event of observed.events) {
    const jti = (event as { jti?: unknown }).jti;
    if (event.type === 'token.issued' && typeof jti === 'string') keys.push(`jti:${jti}`);
    if (event.type === 'logout.succeeded' && event.sid !== null) keys.push(sessionKey(event.sid));
  }
  if (observed.location !== undefined) {
    const interaction = /\/interaction\/([^/?#]+)/.exec(observed.location)?.[1];
    if (interaction !== undefined) keys.push(`interaction:${linkHash(interaction)}`);
    try {
      const code = new URL(observed.location, 'http://relative.invalid').searchParams.get('code');
      if (code !== null) keys.push(`code:${linkHash(code)}`);
    } catch {
      // No code in an unparsable location.
    }
  }
  // A logout without id_token_hint asks the user to confirm (RP-Initiated Logout 1.0 §2): the
  // confirmation form's CSRF token ties the confirming POST to the asking request's flow.
  const form =
    observed.endpoint === 'logout' && observed.body !== undefined
      ? /name="csrf_token" value="([^"]+)"/.exec(observed.body)?.[1]
      : undefined;
  if (form !== undefined) keys.push(logoutFormKey(form));
  // response_mode=form_post: the code is a hidden field of the page.
  const posted = observed.body !== undefined ? /name="code" value="([^"]+)"/.exec(observed.body)?.[1] : undefined;
  if (posted !== undefined) keys.push(`code:${linkHash(posted)}`);
  const json = observed.status < 300 ? jsonObject(observed.body) : undefined;
  if (json !== undefined) {
    if (typeof json['access_token'] === 'string') {
      const jti = jtiOf(json['access_token']);
      if (jti !== undefined) keys.push(`jti:${jti}`);
    }
    if (typeof json['refresh_token'] === 'string') keys.push(`refresh:${linkHash(json['refresh_token'])}`);
    if (typeof json['id_token'] === 'string') keys.push(`id_token:${linkHash(json['id_token'])}`);
  }
  return keys;
}

function authorizationParam(authorization: string | undefined): Array<[string, string]> {
  if (authorization === undefined) return [];
  const [scheme, ...rest] = authorization.split(' ');
  const credential = rest.join(' ').trim();
  if (/^basic$/i.test(scheme ?? '')) {
    try {
      const basic = parseBasicAuthorization(authorization);
      if (basic !== undefined) return [['Authorization', `Basic ${basic.clientId}:${secretHash(basic.clientSecret)}`]];
    } catch {
      // Shown as a hash below.
    }
  }
  return [['Authorization', `${scheme ?? ''} ${secretHash(credential)}`]];
}

function responseArrow(observed: ObservedRequest, from: Lane, to: Lane, front: boolean): FlowArrow | null {
  const status = observed.status;
  if (observed.location !== undefined) {
    const { base, params } = redactUrl(observed.location);
    return { from, to, channel: 'front', title: `${status} redirect → ${base}`, params };
  }
  const json = jsonObject(observed.body);
  if (json !== undefined) {
    const params = redactParams(
      Object.entries(json)
        .filter(([, value]) => typeof value === 'string' || typeof value === 'number')
        .map(([name, value]) => [name, String(value)] as [string, string]),
    );
    return { from, to, channel: front ? 'front' : 'back', title: `${status} JSON`, params };
  }
  if (observed.body !== undefined && /name="code"|name="error"/.test(observed.body))
    return { from, to, channel: 'front', title: `${status} form_post (auto-submitted form to the client)`, params: [] };
  const error = observed.error;
  return {
    from,
    to,
    channel: front ? 'front' : 'back',
    title: front ? `${status} page` : `${status}`,
    params:
      error !== null
        ? [
            ['error', error.error],
            ['error_description', error.description],
          ]
        : [],
  };
}

/** The step (without its flow id) for an observed request. */
export function buildStep(observed: ObservedRequest, flowId: string, instance: string): FlowStep {
  const params = new Map(observed.params);
  const front = FRONT.has(observed.endpoint);
  const resource = observed.resource;
  const from: Lane = front ? 'browser' : 'client';
  const to: Lane = resource !== undefined ? 'resource' : 'gatehouse';
  const redirectedError = observed.location !== undefined ? redactUrl(observed.location).params : [];
  const redirectError = redirectedError.find(([name]) => name === 'error')?.[1];
  const error =
    observed.error ??
    (redirectError !== undefined
      ? {
          error: redirectError,
          description: redirectedError.find(([name]) => name === 'error_description')?.[1] ?? '',
          comparison: null,
        }
      : null);
  const ok = resource !== undefined ? resource.accepted : error === null && observed.status < 400;
  const grantType =
    params.get('grant_type') ??
    (observed.endpoint === 'authorize' && params.has('response_type') ? 'authorization_code' : null);
  const outcome: StepOutcome = {
    endpoint: observed.endpoint,
    ok,
    grantType,
    error: error?.error ?? null,
    description: error?.description ?? null,
    comparison: error?.comparison ?? null,
    events: observed.events.map((event) => {
      const fields = event as { reason?: unknown; detail?: unknown };
      return {
        type: event.type,
        ...(typeof fields.reason === 'string' ? { reason: fields.reason } : {}),
        ...(typeof fields.detail === 'string' ? { detail: fields.detail } : {}),
      };
    }),
    paramNames: new Set(params.keys()),
    codeChallengeMethod: params.get('code_challenge_method') ?? observed.codeChallengeMethod ?? null,
    clientAuth: front || resource !== undefined ? null : clientAuthOf(params, observed.authorization),
  };
  const checks = passedChecks(outcome);
  let failure = null;
  if (!ok) {
    const explained = explainFailure(outcome);
    failure = explained.failure;
    checks.push(explained.check);
  }
  const title =
    resource !== undefined
      ? `${observed.method} ${observed.path} (${resource.name})`
      : `${observed.method} ${redactUrl(observed.path).base}`;
  return {
    id: newStepId(),
    flowId,
    at: observed.startedAt,
    durationMs: observed.durationMs,
    instance,
    request: {
      from,
      to,
      channel: front ? 'front' : 'back',
      title,
      params: [...authorizationParam(observed.authorization), ...redactParams(observed.params)],
    },
    response:
      resource !== undefined
        ? {
            from: 'resource',
            to: 'client',
            channel: 'back',
            title: resource.accepted ? 'token accepted' : '401 token rejected',
            params:
              error !== null
                ? [
                    ['error', error.error],
                    ['error_description', error.description],
                  ]
                : [],
          }
        : responseArrow(observed, to, from, front),
    status: resource !== undefined ? (resource.accepted ? 200 : 401) : observed.status,
    checks,
    failure,
    clientId: clientIdOf(observed, params),
    user: userOf(observed),
    grantType,
    ...(observed.events.some((event) => event.type === 'logout.succeeded') ? { signedOut: true } : {}),
  };
}
