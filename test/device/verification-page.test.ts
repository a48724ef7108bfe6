/**
 * RFC 8628 §3.3 the verification page, §5.4 remote phishing and §5.1 brute force on user codes,
 * §6.1 user code input; and §4 metadata. The page is driven through its documented field names
 * (username, password, csrf_token, user_code, decision).
 *
 * Run: node scripts/run-tests.mjs test/device
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGatehouse } from '../../src/server.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { ALICE, STORE_TARGETS, onStoreTarget, startTestServer } from '../helpers/server.js';
import { assertTokenError } from '../helpers/code-flow.js';
import { hiddenInput, isLoginPage, UserAgent } from '../helpers/user-agent.js';
import {
  CONFIDENTIAL_DEVICE_CLIENT,
  DEVICE_CLIENT,
  DEVICE_GRANT,
  pollToken,
  startDeviceFlow,
  verifyDevice,
} from '../helpers/device-flow.js';

/** Signs ALICE in at the verification page and returns the code form. */
async function signedInCodePage(agent: UserAgent, url = '/device') {
  const login = await agent.navigate(url);
  assert.ok(isLoginPage(login), 'not signed in: the sign-in form comes first');
  const page = await agent.submit(login, { username: ALICE.username, password: ALICE.password });
  assert.equal(page.status, 200, page.body);
  assert.match(page.body, /name="user_code"/);
  return page;
}

describe('RFC 8628 verification page', () => {
  let server: RunningGatehouse;
  before(async () => {
    server = await startTestServer({
      clients: [DEVICE_CLIENT, CONFIDENTIAL_DEVICE_CLIENT],
      settings: {
        limits: {
          ...DEFAULT_SETTINGS.limits,
          userCodeIp: { freeAttempts: 2, backoffBaseMs: 60_000, lockAfter: 5, lockSeconds: 600 },
        },
        trustProxy: true,
      },
    });
  });
  after(async () => {
    await server.close();
  });

  it('RFC 8628 §4: device_authorization_endpoint and the device grant in both metadata documents', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const metadata = (await (await fetch(`${server.url}${path}`)).json()) as Record<string, unknown>;
      assert.equal(metadata['device_authorization_endpoint'], `${server.url}/device_authorization`);
      assert.ok((metadata['grant_types_supported'] as string[]).includes(DEVICE_GRANT));
    }
  });

  it('RFC 8628 §3.1: the device authorization endpoint answers only POST', async () => {
    const response = await fetch(`${server.url}/device_authorization`);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
  });

  it('RFC 8628 §3.3: the user signs in first, then enters the code', async () => {
    const flow = await startDeviceFlow(server);
    const agent = new UserAgent(server.url);
    const done = await verifyDevice(agent, flow.verification_uri, ALICE, flow.user_code, 'allow');
    assert.match(done.body, /Device connected/);
    assert.equal((await pollToken(server, flow.device_code)).status, 200);
  });

  it('RFC 8628 §6.1: the user code is read without regard to case, dashes and spaces', async () => {
    const flow = await startDeviceFlow(server);
    const agent = new UserAgent(server.url);
    const page = await signedInCodePage(agent);
    const typed = ` ${flow.user_code.replace('-', ' ').toLowerCase()} `;
    const confirm = await agent.submit(page, { user_code: typed });
    assert.equal(confirm.status, 200, confirm.body);
    assert.match(confirm.body, new RegExp(flow.user_code));
    assert.match(confirm.body, /Example CLI/);
    assert.match(confirm.body, /name="decision" value="allow"/);
    assert.match(confirm.body, /name="decision" value="deny"/);
  });

  it('RFC 8628 §5.4: verification_uri_complete pre-fills the code but approves nothing until the user confirms', async () => {
    const flow = await startDeviceFlow(server);
    const agent = new UserAgent(server.url);
    const page = await signedInCodePage(agent, flow.verification_uri_complete);
    assert.equal(hiddenInput(page.body, 'user_code'), flow.user_code, 'pre-filled');
    const confirm = await agent.submit(page, { user_code: flow.user_code });
    assert.match(confirm.body, /Check that your device shows the code/);
    assertTokenError(await pollToken(server, flow.device_code), 400, 'authorization_pending');
  });

  it('RFC 8628 §3.3: a form without the CSRF token is refused (403), and nothing is decided', async () => {
    const flow = await startDeviceFlow(server);
    const agent = new UserAgent(server.url);
    await signedInCodePage(agent);
    const forged = await agent.request('/device', { form: { user_code: flow.user_code, decision: 'allow' } });
    assert.equal(forged.status, 403);
    const wrong = await agent.request('/device', {
      form: { user_code: flow.user_code, decision: 'allow', csrf_token: 'forged' },
    });
    assert.equal(wrong.status, 403);
    assertTokenError(await pollToken(server, flow.device_code), 400, 'authorization_pending');
  });

  it('RFC 8628 §3.3: a code decided once cannot be decided again', async () => {
    const flow = await startDeviceFlow(server);
    const agent = new UserAgent(server.url);
    const page = await signedInCodePage(agent);
    const confirm = await agent.submit(page, { user_code: flow.user_code });
    const first = await agent.submit(confirm, { user_code: flow.user_code, decision: 'deny' });
    assert.match(first.body, /Access denied/);
    const second = await agent.submit(confirm, { user_code: flow.user_code, decision: 'allow' });
    assert.equal(second.status, 400);
    assert.match(second.body, /not valid or has expired/);
    assertTokenError(await pollToken(server, flow.device_code), 400, 'access_denied');
  });

  it('RFC 8628 §5.1: unknown user codes are limited per address (429 with Retry-After), a right one is not counted', async () => {
    const agent = new UserAgent(server.url);
    agent.extraHeaders['x-forwarded-for'] = '203.0.113.77';
    const page = await signedInCodePage(agent);
    const flow = await startDeviceFlow(server);
    // A right code takes its attempt back: it never adds up to the limit.
    for (let i = 0; i < 3; i++) assert.equal((await agent.submit(page, { user_code: flow.user_code })).status, 200);
    assert.equal((await agent.submit(page, { user_code: 'BBBB-BBBB' })).status, 400);
    assert.equal((await agent.submit(page, { user_code: 'CCCC-CCCC' })).status, 400);
    assert.equal((await agent.submit(page, { user_code: 'DDDD-DDDD' })).status, 400, 'the third miss is counted');
    const limited = await agent.submit(page, { user_code: flow.user_code });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.match(limited.body, /Too many codes were tried/);
    // Another address is not affected.
    const other = new UserAgent(server.url);
    other.extraHeaders['x-forwarded-for'] = '198.51.100.9';
    const otherPage = await signedInCodePage(other);
    assert.equal((await other.submit(otherPage, { user_code: flow.user_code })).status, 200);
  });
});

for (const target of STORE_TARGETS) {
  describe(`RFC 8628 §5.1 global user code limit (${target.name})`, () => {
    let server: RunningGatehouse | undefined;
    const teardown = async () => {
      await server?.close();
      server = undefined;
    };
    it(
      'RFC 8628 §5.1: unknown user codes from many addresses are limited over all addresses',
      onStoreTarget(
        target,
        async (url) => {
          server = await startTestServer({
            databaseUrl: url,
            clients: [DEVICE_CLIENT],
            settings: {
              trustProxy: true,
              limits: {
                ...DEFAULT_SETTINGS.limits,
                userCodeGlobal: { freeAttempts: 3, backoffBaseMs: 60_000, lockAfter: 10, lockSeconds: 600 },
              },
            },
          });
          const agents = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'].map((ip) => {
            const agent = new UserAgent(server!.url);
            agent.extraHeaders['x-forwarded-for'] = ip;
            return agent;
          });
          const statuses: number[] = [];
          for (const agent of agents) {
            const page = await signedInCodePage(agent);
            statuses.push((await agent.submit(page, { user_code: 'BBBB-CCCC' })).status);
          }
          assert.deepEqual(statuses, [400, 400, 400, 400], 'three free misses, the fourth counted');
          const page = await agents[0]!.navigate('/device');
          const limited = await agents[0]!.submit(page, { user_code: 'BBBB-CCCC' });
          assert.equal(limited.status, 429);
          assert.ok(Number(limited.headers.get('retry-after')) > 0);
        },
        teardown,
      ),
    );
  });
}
