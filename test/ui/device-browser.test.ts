/**
 * RFC 8628 device flow with the verification page in a real browser (Debian's Chromium driven by
 * playwright-core) while a polling client in Node waits at the token endpoint, as a device would
 * (§3.4-3.5: it waits `interval` seconds between polls and 5 more after each slow_down). The
 * user signs in, finds the code pre-filled from verification_uri_complete, checks it and allows
 * (the device gets tokens) or denies (the device gets access_denied). No page reports a Content
 * Security Policy violation.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.js';
import { launchChromium, openBrowserSession } from '../helpers/browser.js';
import { ALICE, startTestServer } from '../helpers/server.js';
import { DEVICE_CLIENT, pollToken, startDeviceFlow, type DeviceAuthorization } from '../helpers/device-flow.js';

/** The device's side: polls until the answer is no longer pending; the last response. */
async function pollUntilDecided(gatehouse: RunningGatehouse, flow: DeviceAuthorization) {
  let interval = flow.interval;
  // Generous: the browser's part may take long on a loaded machine; the code lives 600 s.
  const deadline = Date.now() + 120_000;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, interval * 1000));
    const response = await pollToken(gatehouse, flow.device_code);
    const error = response.body['error'];
    if (error === 'slow_down') interval += 5;
    else if (error !== 'authorization_pending') return response;
    if (Date.now() > deadline) throw new Error('the user did not decide in time');
  }
}

describe('RFC 8628 device flow: verification page in Chromium, polling client in Node', () => {
  let gatehouse: RunningGatehouse;
  let browser: Browser;

  before(async () => {
    [gatehouse, browser] = await Promise.all([
      startTestServer({ clients: [DEVICE_CLIENT], settings: { deviceCodeIntervalSeconds: 1 } }),
      launchChromium(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
  });

  for (const decision of ['allow', 'deny'] as const) {
    it(`RFC 8628 §3.3-3.5: the user signs in, confirms the pre-filled code and chooses ${decision}; the device learns it by polling`, async () => {
      const flow = await startDeviceFlow(gatehouse, { scope: 'openid profile offline_access' });
      const device = pollUntilDecided(gatehouse, flow);
      const session = await openBrowserSession(browser);
      try {
        const { page } = session;
        await page.goto(flow.verification_uri_complete);
        // Not signed in: the sign-in form of the login page comes first.
        await page.fill('input[name="username"]', ALICE.username);
        await page.fill('input[name="password"]', ALICE.password);
        await page.click('button[type="submit"]');
        // RFC 8628 §5.4: the code is pre-filled, not yet submitted.
        await page.waitForSelector('input[name="user_code"]');
        assert.equal(await page.inputValue('input[name="user_code"]'), flow.user_code);
        await page.click('button[type="submit"]');
        // The confirmation shows the application and the code to compare with the device's.
        await page.waitForSelector('button[name="decision"]');
        const text = await page.textContent('main');
        assert.match(text ?? '', /Example CLI/);
        assert.match(text ?? '', new RegExp(flow.user_code));
        await page.click(`button[name="decision"][value="${decision}"]`);
        await page.waitForSelector('h1');
        assert.equal(
          (await page.textContent('h1'))?.trim(),
          decision === 'allow' ? 'Device connected' : 'Access denied',
        );

        const answer = await device;
        if (decision === 'allow') {
          assert.equal(answer.status, 200, answer.text);
          assert.equal(typeof answer.body['access_token'], 'string');
          assert.equal(typeof answer.body['refresh_token'], 'string');
          assert.equal(typeof answer.body['id_token'], 'string');
        } else {
          assert.equal(answer.status, 400);
          assert.equal(answer.body['error'], 'access_denied');
        }
        assert.deepEqual(session.cspReports, [], session.consoleMessages.join('\n'));
      } finally {
        await session.close();
      }
    });
  }
});
