/**
 * A flow's state as the inspector and `gatehouse flows` tell it: a logout (RP-Initiated Logout
 * 1.0 §2) ends its flow as "signed out"; a back-channel logout delivery counts by its final
 * outcome (Back-Channel Logout 1.0 §2.8, retried with backoff): a failed attempt delivered on
 * retry is no failure of the flow, one given up is. And the flow page's failure explanations
 * each have an id of their own, which the failed state links to.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { deliveryStep } from '../../src/core/inspector/logout-delivery-step.js';
import { describeState, type FlowStep, flowState, summarize } from '../../src/core/inspector/flow-model.js';
import { buildStep, type ObservedRequest } from '../../src/core/inspector/step-builder.js';
import type { DeliveryAttempt } from '../../src/core/logout/delivery-worker.js';
import { renderFlowPage } from '../../src/ui/inspector-pages.js';
import { obtainCode } from '../helpers/code-flow.js';
import { CONFIDENTIAL_CLIENT, startTestServer } from '../helpers/server.js';
import { formPostFields } from '../helpers/user-agent.js';

const T0 = Date.UTC(2026, 0, 1);

function observed(overrides: Partial<ObservedRequest>): ObservedRequest {
  return {
    endpoint: 'token',
    method: 'POST',
    path: '/token',
    params: [],
    authorization: undefined,
    status: 200,
    location: undefined,
    body: undefined,
    error: null,
    events: [],
    startedAt: T0,
    durationMs: 3,
    ...overrides,
  };
}

const tokenStep = (at: number, status = 200, error: ObservedRequest['error'] = null) =>
  buildStep(
    observed({ startedAt: at, status, error, params: [['grant_type', 'authorization_code']] }),
    'flow-1',
    'test',
  );

function logoutStep(at: number): FlowStep {
  return buildStep(
    observed({
      endpoint: 'logout',
      method: 'POST',
      path: '/logout/confirm',
      status: 303,
      location: 'https://rp.example/signed-out',
      startedAt: at,
      events: [
        {
          type: 'logout.succeeded',
          userId: 'u1',
          sid: 'sid-1',
          clientId: 'rp',
          backchannelClientIds: ['rp'],
          at,
        },
      ],
    }),
    'flow-1',
    'test',
  );
}

function attempt(number: number, delivered: boolean, retrying: boolean, id = 'delivery-1'): DeliveryAttempt {
  return {
    deliveryId: id,
    clientId: 'rp',
    uri: 'https://rp.example/backchannel',
    attempt: number,
    logoutToken: 'eyJhbGciOiJub25lIn0.eyJzaWQiOiJzaWQtMSJ9.',
    startedAt: T0 + 1000 * number,
    durationMs: 5,
    status: delivered ? 200 : 503,
    delivered,
    detail: delivered ? 'HTTP 200' : 'HTTP 503',
    nextAttemptAt: retrying ? T0 + 1000 * (number + 1) : null,
  };
}

const delivery = (step: DeliveryAttempt) => deliveryStep(step, 'flow-1', 'test');

describe('flow state: a logout ends its flow (RP-Initiated Logout 1.0 §2)', () => {
  it('a flow of a logout alone is "signed out" once the logout went through, not "in progress"', () => {
    const asked = buildStep(
      observed({ endpoint: 'logout', method: 'GET', path: '/logout', status: 200, startedAt: T0 }),
      'flow-1',
      'test',
    );
    assert.deepEqual(flowState([asked]), { kind: 'in_progress' }, 'the confirmation page alone ends nothing');
    const steps = [asked, logoutStep(T0 + 10)];
    assert.deepEqual(flowState(steps), { kind: 'signed_out' });
    assert.equal(describeState(flowState(steps)), 'signed out');
  });

  it('a sign-in flow whose session is then ended by logout is signed out; a failure still wins', () => {
    assert.deepEqual(flowState([tokenStep(T0), logoutStep(T0 + 10)]), { kind: 'signed_out' });
    const refused = tokenStep(T0, 400, { error: 'invalid_grant', description: 'nope', comparison: null });
    assert.deepEqual(flowState([refused, logoutStep(T0 + 10)]), { kind: 'failed', step: 1 });
  });

  it('the logout without id_token_hint: the confirming POST joins the asking GET’s flow, which ends signed out', async () => {
    const gatehouse = await startTestServer({
      settings: { inspector: { ...DEFAULT_SETTINGS.inspector, enabled: true } },
    });
    try {
      const { ua } = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
      const inspector = gatehouse.context.inspector!;
      const asked = await ua.request('/logout');
      assert.equal(asked.status, 200, asked.body.slice(0, 300));
      const done = await ua.request('/logout/confirm', { form: formPostFields(asked.body) });
      assert.ok(done.status < 400, done.body.slice(0, 300));
      await inspector.flush();
      const flows = await inspector.recent({ limit: 10 });
      const logouts = [];
      for (const flow of flows) {
        const steps = await inspector.flow(flow.flowId);
        if (steps.some((step) => / \/logout/.test(step.request.title))) logouts.push({ flow, steps });
      }
      assert.equal(logouts.length, 1, 'the asking GET and the confirming POST are one flow');
      const [{ flow, steps }] = logouts as [(typeof logouts)[number]];
      assert.deepEqual(
        steps.map((step) => step.request.title),
        ['GET /logout', 'POST /logout/confirm'],
      );
      assert.deepEqual(flow.state, { kind: 'signed_out' });
      const list = await (await fetch(`${gatehouse.url}/_gatehouse/flows`)).text();
      assert.match(list, new RegExp(`data-flow="${flow.flowId}".*class="state-signed_out">signed out<`));
    } finally {
      await gatehouse.close();
    }
  });
});

describe('flow state: back-channel logout deliveries count by their final outcome (Back-Channel Logout 1.0 §2.8)', () => {
  it('a failed attempt followed by a delivered retry does not fail the flow', () => {
    const steps = [logoutStep(T0), delivery(attempt(1, false, true)), delivery(attempt(2, true, false))];
    assert.notEqual(steps[1]!.failure, null, 'the failed attempt still shows its failure');
    assert.deepEqual(flowState(steps), { kind: 'signed_out' });
    assert.deepEqual(flowState([tokenStep(T0), ...steps.slice(1)]), { kind: 'succeeded' });
  });

  it('a delivery given up after its last attempt fails the flow at that attempt', () => {
    const steps = [logoutStep(T0), delivery(attempt(1, false, true)), delivery(attempt(2, false, false))];
    assert.deepEqual(flowState(steps), { kind: 'failed', step: 3 });
  });

  it('a delivery waiting for its retry keeps the flow in progress; each delivery counts on its own', () => {
    assert.deepEqual(flowState([logoutStep(T0), delivery(attempt(1, false, true))]), { kind: 'in_progress' });
    const steps = [
      logoutStep(T0),
      delivery(attempt(1, false, true, 'a')),
      delivery(attempt(1, false, false, 'b')),
      delivery(attempt(2, true, false, 'a')),
    ];
    assert.deepEqual(flowState(steps), { kind: 'failed', step: 3 });
    assert.deepEqual(summarize('flow-1', steps).state, { kind: 'failed', step: 3 });
  });
});

describe('flow page: element ids', () => {
  it('a flow with two failed steps has no duplicate id; the failed state links to the first failure', () => {
    const failure = { error: 'invalid_grant', description: 'the code was already used', comparison: null };
    const steps = [tokenStep(T0, 400, failure), tokenStep(T0 + 5), tokenStep(T0 + 10, 400, failure)];
    const summary = summarize('flow-1', steps);
    const body = renderFlowPage('flow-1', steps, summary, '/_gatehouse');
    const ids = [...body.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]!);
    const duplicates = ids.filter((id, index) => ids.indexOf(id) !== index);
    assert.deepEqual(duplicates, [], 'no id appears twice');
    assert.ok(ids.includes('failure-1') && ids.includes('failure-3'), 'one failure block per failed step');
    const links = [...body.matchAll(/href="#([^"]+)"/g)].map((match) => match[1]!);
    assert.ok(links.includes('failure-1'), 'the failed state links to the failure');
    for (const target of links) assert.ok(ids.includes(target), `#${target} names an element of the page`);
  });
});
