/**
 * Back-channel logout deliveries in the flow inspector: each attempt of the delivery worker
 * (src/core/logout/delivery-worker.ts) becomes a step drawn as a back-channel arrow from
 * Gatehouse to the Client lane (OpenID Connect Back-Channel Logout 1.0 §2.5, a POST from the OP
 * to the RP's backchannel_logout_uri) and the RP's answer back (§2.8). The logout token appears
 * only as its short hash.
 *
 * A delivery belongs to the flow of the logout that queued it: the logout request links the
 * ended session's `sid` to its flow (src/http/inspector-hooks.ts), and the logout token carries
 * that `sid` (§2.4). A delivery without one (a user's access to an application removed) or
 * whose logout was not seen gets a flow of its own, which its retries join.
 */
import { decodeJwt } from 'jose';
import type { DeliveryAttempt } from '../logout/delivery-worker.js';
import type { FlowInspector } from './flow-inspector.js';
import { type FlowCheck, type FlowFailure, type FlowStep, newStepId, secretHash, type SpecRef } from './flow-model.js';
import { sessionKey } from './step-builder.js';

const SPEC = 'https://openid.net/specs/openid-connect-backchannel-1_0.html';
/** Back-Channel Logout 1.0 §2.5: the logout request, a form POST of `logout_token`. */
export const BACKCHANNEL_REQUEST: SpecRef = { label: 'OpenID Back-Channel Logout 1.0 §2.5', url: `${SPEC}#BCRequest` };
/** §2.8: the RP answers 200 OK when it accepted the token (some answer 204). */
export const BACKCHANNEL_RESPONSE: SpecRef = {
  label: 'OpenID Back-Channel Logout 1.0 §2.8',
  url: `${SPEC}#BCResponse`,
};

function sidOf(logoutToken: string): string | undefined {
  try {
    const sid = decodeJwt(logoutToken)['sid'];
    return typeof sid === 'string' ? sid : undefined;
  } catch {
    return undefined;
  }
}

/** Why the attempt failed and what comes next, in words. */
function failureDescription(attempt: DeliveryAttempt): string {
  const next =
    attempt.nextAttemptAt !== null
      ? `will retry at ${new Date(attempt.nextAttemptAt).toISOString()}`
      : `gave up after ${attempt.attempt} attempt${attempt.attempt === 1 ? '' : 's'}`;
  return `${attempt.status !== null ? `the RP answered HTTP ${attempt.status}` : attempt.detail}; ${next}`;
}

/** The step of one delivery attempt in flow `flowId`. */
export function deliveryStep(attempt: DeliveryAttempt, flowId: string, instance: string): FlowStep {
  const answered = attempt.status !== null ? `HTTP ${attempt.status}` : 'no usable HTTP response';
  let checks: FlowCheck[];
  let failure: FlowFailure | null = null;
  if (attempt.delivered) {
    checks = [
      {
        name: 'the RP acknowledged the logout token',
        ok: true,
        detail: `${answered} (attempt ${attempt.attempt})`,
        ref: BACKCHANNEL_RESPONSE,
      },
    ];
  } else {
    const description = failureDescription(attempt);
    failure = {
      error: 'back-channel logout not delivered',
      description,
      rule: 'The RP’s backchannel_logout_uri must answer a logout token it accepted with 200 OK (some answer 204); any other status, a timeout or a connection failure is a failed delivery, which Gatehouse retries with backoff (backchannel_logout_max_attempts, backchannel_logout_max_age_seconds).',
      ref: BACKCHANNEL_RESPONSE,
      comparison: null,
      fixClient:
        attempt.status === 400
          ? 'The RP refused the token: check its validation (§2.6): iss, aud (its client_id), typ logout+jwt, the events claim, sid or sub, and the signature against the issuer’s JWKS.'
          : 'Serve the backchannel_logout_uri: accept a POST of application/x-www-form-urlencoded logout_token, validate it (§2.6), end the session it names (sid, sub), and answer 200 with Cache-Control: no-store.',
      fixOperator:
        'Check that Gatehouse can reach the URI (a loopback or private address needs outbound_allow_private_addresses; firewalls, DNS); `gatehouse logout-deliveries list --failed` lists the deliveries that gave up, and the server log has each attempt.',
    };
    checks = [
      { name: 'the RP acknowledged the logout token', ok: false, detail: description, ref: BACKCHANNEL_RESPONSE },
    ];
  }
  return {
    id: newStepId(),
    flowId,
    at: attempt.startedAt,
    durationMs: attempt.durationMs,
    instance,
    request: {
      from: 'gatehouse',
      to: 'client',
      channel: 'back',
      title: `POST ${attempt.uri} (back-channel logout)`,
      params: [
        ['client_id', attempt.clientId],
        ['logout_token', secretHash(attempt.logoutToken)],
        ['attempt', String(attempt.attempt)],
      ],
    },
    response: {
      from: 'client',
      to: 'gatehouse',
      channel: 'back',
      title: attempt.delivered ? `${answered}: delivered` : `${answered}: not delivered`,
      params: attempt.delivered ? [] : [['error', attempt.detail]],
    },
    status: attempt.status,
    checks,
    failure,
    clientId: attempt.clientId,
    user: null,
    grantType: null,
    delivery: { id: attempt.deliveryId, delivered: attempt.delivered, retrying: attempt.nextAttemptAt !== null },
  };
}

/** The flow a delivery belongs to: its logout's (by sid), else its own (made on its first attempt). */
async function deliveryFlow(inspector: FlowInspector, attempt: DeliveryAttempt): Promise<string> {
  const sid = sidOf(attempt.logoutToken);
  const ofLogout = sid !== undefined ? await inspector.flowOf(sessionKey(sid)) : undefined;
  if (ofLogout !== undefined) return ofLogout;
  const key = `delivery:${attempt.deliveryId}`;
  const known = await inspector.flowOf(key);
  if (known !== undefined) return known;
  const flowId = newStepId();
  await inspector.link(key, flowId);
  return flowId;
}

/** Records a delivery attempt in its flow (in the background: the worker does not wait). */
export function recordLogoutDelivery(inspector: FlowInspector, attempt: DeliveryAttempt): void {
  inspector.track(
    (async () => {
      const flowId = await deliveryFlow(inspector, attempt);
      inspector.record(deliveryStep(attempt, flowId, inspector.instance));
    })(),
  );
}
