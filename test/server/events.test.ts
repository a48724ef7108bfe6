/**
 * Every protocol step emits a typed event, and one flow id ties the front-channel steps to the
 * back-channel steps of the same authorization.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { TimedEvent } from '../../src/core/events.js';
import { s256Challenge } from '../../src/core/pkce.js';
import { ALICE, CONFIDENTIAL_CLIENT, startTestServer } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';

it('one flow id ties authorization, login, consent, code issued, code redeemed and token issued together', async () => {
  const gatehouse = await startTestServer();
  const events: TimedEvent[] = [];
  gatehouse.context.events.onAny((event) => events.push(event));
  try {
    const verifier = 'events-test-verifier-0123456789-abcdefghijklmnopq';
    const redirectUri = CONFIDENTIAL_CLIENT.redirect_uris[0]!;
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: CONFIDENTIAL_CLIENT.client_id,
      redirect_uri: redirectUri,
      scope: 'openid',
      state: 'st',
      code_challenge: s256Challenge(verifier),
      code_challenge_method: 'S256',
    });
    const ua = new UserAgent(gatehouse.url);
    // A wrong password first, then the right one.
    let page = await ua.navigate(`${gatehouse.url}/authorize?${query}`);
    page = await ua.submit(page, { username: ALICE.username, password: 'wrong' });
    page = await ua.submit(page, { username: ALICE.username, password: ALICE.password });
    page = await ua.submit(page, { decision: 'allow' });
    const code = new URL(page.location!).searchParams.get('code')!;
    const basic = Buffer.from(`${CONFIDENTIAL_CLIENT.client_id}:${CONFIDENTIAL_CLIENT.client_secret}`).toString(
      'base64',
    );
    const token = await fetch(`${gatehouse.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      }),
    });
    assert.equal(token.status, 200);

    const types = events.map((event) => event.type);
    assert.deepEqual(types, [
      'authorization.accepted',
      'login.failed',
      'login.succeeded',
      'consent.granted',
      'code.issued',
      'code.redeemed',
      'token.issued',
    ]);
    const flowIds = new Set(events.map((event) => ('flowId' in event ? event.flowId : undefined)));
    assert.equal(flowIds.size, 1, `one flow id across the front and back channel, got ${[...flowIds].join(', ')}`);
    for (const event of events) assert.equal(typeof event.at, 'number');
    // Events carry no secrets.
    assert.doesNotMatch(JSON.stringify(events), new RegExp(`${code}|${ALICE.password}|${verifier}`));
  } finally {
    await gatehouse.close();
  }
});

it('a throwing listener does not break the protocol step that emitted the event', async () => {
  const gatehouse = await startTestServer();
  try {
    gatehouse.context.events.onAny(() => {
      throw new Error('listener bug');
    });
    const response = await fetch(`${gatehouse.url}/authorize?client_id=web-app&response_type=code`, {
      redirect: 'manual',
    });
    assert.equal(response.status, 303);
  } finally {
    await gatehouse.close();
  }
});
