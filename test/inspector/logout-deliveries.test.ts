/**
 * The flow inspector draws back-channel logout deliveries (OpenID Connect Back-Channel Logout 1.0
 * §2.5, §2.8): after an RP-Initiated Logout, each delivery attempt of the logout's session is a
 * back-channel arrow from Gatehouse to the Client lane, in the flow of the logout (which its
 * id_token_hint ties to the sign-in flow), with the RP's answer; a failed one (HTTP 500, a
 * refused connection) is marked failed with its reason, and the logout token appears only as
 * its short hash. A local HTTP server plays the RPs' backchannel_logout_uri.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import type { ClientFixture } from '../../src/config/settings.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { secretHash } from '../../src/core/inspector/flow-model.js';
import type { RunningGatehouse } from '../../src/server.js';
import { codeFlow, interopClient, sleep } from '../helpers/interop-client.js';
import { CONFIDENTIAL_CLIENT, startTestServer } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';

const SIGNED_OUT = 'http://127.0.0.1:9000/signed-out';

function rp(id: string, backchannelUri: string): ClientFixture {
  return {
    ...CONFIDENTIAL_CLIENT,
    client_id: id,
    client_secret: `${id}-secret-that-is-long-enough`,
    redirect_uris: [`http://127.0.0.1:9000/${id}/callback`],
    post_logout_redirect_uris: [SIGNED_OUT],
    backchannel_logout_uri: backchannelUri,
  };
}

/** A port nothing listens on (bound once, then closed): connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/** The steps of the flow page (each `<li class=… id="step-N">` with its arrows and checks) that carry `text`. */
function stepsWith(body: string, text: string): string[] {
  return body.split(/(?=<li class="[^"]*" id="step-)/).filter((part) => part.startsWith('<li') && part.includes(text));
}

function stepWith(body: string, text: string): string {
  const [step] = stepsWith(body, text);
  assert.ok(step !== undefined, `no step with ${text}`);
  return step;
}

describe('flow inspector: back-channel logout deliveries (Back-Channel Logout 1.0 §2.5, §2.8)', () => {
  const received: Array<{ path: string; token: string }> = [];
  let receiver: Server;
  let base = '';
  let refusedUri = '';
  let gatehouse: RunningGatehouse;
  let delivered: ClientFixture;
  let broken: ClientFixture;
  let unreachable: ClientFixture;

  before(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        received.push({ path: request.url ?? '/', token: new URLSearchParams(body).get('logout_token') ?? '' });
        response.writeHead(request.url === '/broken' ? 500 : 200, { 'cache-control': 'no-store' }).end();
      });
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    refusedUri = `http://127.0.0.1:${await closedPort()}/logout`;
    delivered = rp('rp-delivered', `${base}/ok`);
    broken = rp('rp-broken', `${base}/broken`);
    unreachable = rp('rp-unreachable', refusedUri);
    gatehouse = await startTestServer({
      clients: [delivered, broken, unreachable],
      settings: {
        inspector: { ...DEFAULT_SETTINGS.inspector, enabled: true },
        // The receiver is on 127.0.0.1, which outbound requests refuse unless allowed.
        outboundAllowPrivateAddresses: true,
        backchannelLogoutBackoffInitialMs: 50,
        backchannelLogoutBackoffMaxMs: 50,
        backchannelLogoutMaxAttempts: 2,
      },
    });
  });
  after(async () => {
    await gatehouse?.close();
    receiver.closeAllConnections();
    await new Promise((done) => receiver.close(done));
  });

  it('draws each delivery attempt as a back-channel arrow Gatehouse → Client in the logout’s flow, failures with their reason', async () => {
    // One browser signs in to the three RPs (single sign-on: one session), then out at the first.
    const ua = new UserAgent(gatehouse.url);
    const tokens = await codeFlow(gatehouse, await interopClient(gatehouse, delivered), { scope: 'openid', ua });
    for (const fixture of [broken, unreachable])
      await codeFlow(gatehouse, await interopClient(gatehouse, fixture), { scope: 'openid', ua });
    const ic = await interopClient(gatehouse, delivered);
    const logout = await ua.request(
      client.buildEndSessionUrl(ic.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: SIGNED_OUT })
        .href,
    );
    assert.equal(logout.status, 303, logout.body.slice(0, 300));

    // rp-delivered once; rp-broken and rp-unreachable twice each (max attempts 2), then given up.
    const deadline = Date.now() + 10_000;
    const settled = async () =>
      (await gatehouse.store.logoutDeliveries.list()).every(
        (delivery) => delivery.deliveredAt !== null || delivery.nextAttemptAt === null,
      );
    while (!(await settled())) {
      assert.ok(Date.now() < deadline, 'the deliveries did not settle');
      await sleep(25);
    }
    assert.deepEqual(received.map((entry) => entry.path).sort(), ['/broken', '/broken', '/ok']);
    const inspector = gatehouse.context.inspector!;
    // The logout names the sign-in flow of rp-delivered (its ID token as id_token_hint).
    const [flow] = await inspector.recent({ clientId: delivered.client_id, limit: 1 });
    assert.ok(flow);
    // The worker tells the inspector of an attempt once its outcome is stored: 1 + 2 + 2 steps.
    const deliveries = async () => {
      await inspector.flush();
      return (await inspector.flow(flow.flowId)).filter((step) => step.request.title.endsWith('(back-channel logout)'));
    };
    while ((await deliveries()).length < 5) {
      assert.ok(Date.now() < deadline, 'the delivery steps were not all recorded');
      await sleep(25);
    }
    const response = await fetch(`${gatehouse.url}/_gatehouse/flows/${flow.flowId}`);
    assert.equal(response.status, 200);
    const body = await response.text();
    assert.match(
      body,
      /data-channel="front" data-from="browser" data-to="gatehouse" data-kind="request">.*GET \/logout/,
    );
    assert.match(body, /GET \/authorize/, 'the logout is drawn in the sign-in flow');

    const ok = stepWith(body, `POST ${base}/ok (back-channel logout)`);
    assert.match(
      ok,
      /data-channel="back" data-from="gatehouse" data-to="client" data-kind="request"><span class="channel">back channel<\/span>Gatehouse → Client: POST http:\/\/127\.0\.0\.1:\d+\/ok \(back-channel logout\)/,
    );
    assert.match(
      ok,
      /data-channel="back" data-from="client" data-to="gatehouse" data-kind="response">.*HTTP 200: delivered/,
    );
    assert.match(ok, /<b>client_id<\/b>=rp-delivered/);
    assert.match(ok, /class="ok">the RP acknowledged the logout token: HTTP 200/);
    assert.match(ok, /^<li class="" id="step-/, 'not marked failed');

    const brokenSteps = stepsWith(body, `POST ${base}/broken (back-channel logout)`);
    assert.equal(brokenSteps.length, 2, 'each attempt is a step');
    assert.match(brokenSteps[0]!, /^<li class="failed"/);
    assert.match(
      brokenSteps[0]!,
      /data-from="client" data-to="gatehouse" data-kind="response">.*HTTP 500: not delivered/,
    );
    assert.match(brokenSteps[0]!, /the RP answered HTTP 500; will retry at /);
    assert.match(brokenSteps[1]!, /the RP answered HTTP 500; gave up after 2 attempts/);
    assert.match(
      brokenSteps[1]!,
      /<a class="spec" href="https:\/\/openid\.net\/specs\/openid-connect-backchannel-1_0\.html#BCResponse">OpenID Back-Channel Logout 1\.0 §2\.8<\/a>/,
    );

    const refused = stepWith(body, `POST ${refusedUri} (back-channel logout)`);
    assert.match(refused, /^<li class="failed"/);
    assert.match(refused, /no usable HTTP response: not delivered/);
    assert.match(refused, /<b>error<\/b>=outbound request failed: [^<]+/, 'the reason the connection failed');

    // The flow failed at the first delivery given up (its first attempts were retried); the
    // logout tokens appear only as their hashes.
    assert.match(body, /class="state-failed">failed at step \d+</);
    for (const { token } of received) {
      assert.ok(token.length > 0);
      assert.ok(!body.includes(token), 'a logout token appears in the page');
      assert.ok(body.includes(`<b>logout_token</b>=${secretHash(token)}`));
    }
  });
});

describe('flow inspector: a back-channel logout delivered on retry (Back-Channel Logout 1.0 §2.8)', () => {
  let receiver: Server;
  let gatehouse: RunningGatehouse;
  let flaky: ClientFixture;
  let answered = 0;

  before(async () => {
    // The RP answers 503 to the first delivery and 200 to the next.
    receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        answered += 1;
        response.writeHead(answered === 1 ? 503 : 200, { 'cache-control': 'no-store' }).end();
      });
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    flaky = rp('rp-flaky', `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/logout`);
    gatehouse = await startTestServer({
      clients: [flaky],
      settings: {
        inspector: { ...DEFAULT_SETTINGS.inspector, enabled: true },
        outboundAllowPrivateAddresses: true,
        backchannelLogoutBackoffInitialMs: 50,
        backchannelLogoutBackoffMaxMs: 50,
        backchannelLogoutMaxAttempts: 3,
      },
    });
  });
  after(async () => {
    await gatehouse?.close();
    receiver.closeAllConnections();
    await new Promise((done) => receiver.close(done));
  });

  it('the failed first attempt stays drawn as failed, but the flow is not "failed": the retry delivered it', async () => {
    const ua = new UserAgent(gatehouse.url);
    const ic = await interopClient(gatehouse, flaky);
    const tokens = await codeFlow(gatehouse, ic, { scope: 'openid', ua });
    const logout = await ua.request(
      client.buildEndSessionUrl(ic.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: SIGNED_OUT })
        .href,
    );
    assert.equal(logout.status, 303, logout.body.slice(0, 300));

    const inspector = gatehouse.context.inspector!;
    const [flow] = await inspector.recent({ clientId: flaky.client_id, limit: 1 });
    assert.ok(flow);
    const deadline = Date.now() + 10_000;
    const deliveries = async () => {
      await inspector.flush();
      return (await inspector.flow(flow.flowId)).filter((step) => step.request.title.endsWith('(back-channel logout)'));
    };
    while ((await deliveries()).length < 2) {
      assert.ok(Date.now() < deadline, 'the two attempts were not both recorded');
      await sleep(25);
    }
    const [first, second] = await deliveries();
    assert.match(first!.failure?.description ?? '', /the RP answered HTTP 503; will retry at /);
    assert.equal(second!.failure, null);
    assert.equal(answered, 2);

    const [summary] = await inspector.recent({ clientId: flaky.client_id, limit: 1 });
    assert.deepEqual(
      summary!.state,
      { kind: 'signed_out' },
      'the sign-in flow ended by its logout, every delivery made',
    );
    assert.deepEqual(await inspector.recent({ failed: true }), [], 'not among the failed flows');
    const body = await (await fetch(`${gatehouse.url}/_gatehouse/flows/${flow.flowId}`)).text();
    assert.match(body, /class="state-signed_out">signed out</);
    assert.doesNotMatch(body, /class="state-failed"/);
    assert.equal(stepsWith(body, '(back-channel logout)')[0]!.startsWith('<li class="failed"'), true);
  });
});
