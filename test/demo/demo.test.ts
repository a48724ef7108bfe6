/**
 * `gatehouse demo`: the three parties on one machine, driven end to end in Debian's Chromium
 * (playwright-core), on free ports and an in-memory SQLite store.
 *
 * - The confidential web client (openid-client): home → sign in → Gatehouse login → consent →
 *   back at the client with the tokens shown → "Call the API" (notes) → "Refresh" (rotated).
 * - The SPA (public client, oauth4webapi in the browser, cross-origin token request): single
 *   sign-on (no password again), consent for the second client, tokens, API call.
 * - The protected resource refuses a request without a token (RFC 6750 challenge with RFC 9728
 *   resource_metadata), a token whose audience is another resource (the issuer), and a token
 *   without the notes:read scope; its CORS answers only the SPA's origin.
 * - The CLI command starts the demo from an empty directory (default database file,
 *   development secret file), prints the URLs and credentials, and stops cleanly on SIGTERM.
 *
 * Screenshots: test-output/screenshots/demo-*.png.
 *
 * Run: node --import tsx --test test/demo/demo.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO_SCOPE, DEMO_USER, DEMO_WEB_CLIENT_ID, DEMO_WEB_CLIENT_SECRET } from '../../src/demo/demo-config.js';
import type { RunningDemo } from '../../src/demo/run-demo.js';
import { launchChromium } from '../helpers/browser.js';
import { freePorts, startTestDemo } from '../helpers/demo.js';
import { UserAgent } from '../helpers/user-agent.js';

const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** openid-client as a second, scripted relying party (demo-web) for the API checks. */
async function scriptedTokens(demo: RunningDemo, options: { scope: string; resource?: string }): Promise<string> {
  const config = await client.discovery(
    new URL(demo.urls.issuer),
    DEMO_WEB_CLIENT_ID,
    undefined,
    client.ClientSecretBasic(DEMO_WEB_CLIENT_SECRET),
    {
      execute: [client.allowInsecureRequests],
    },
  );
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const params: Record<string, string> = {
    redirect_uri: demo.urls.webRedirectUri,
    scope: options.scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  };
  if (options.resource !== undefined) params['resource'] = options.resource;
  const final = await new UserAgent(demo.urls.issuer).authorize(
    client.buildAuthorizationUrl(config, params).href,
    DEMO_USER as { username: string; password: string },
  );
  assert.equal(
    final.status,
    303,
    `expected a redirect to the client, got ${final.status}: ${final.body.slice(0, 300)}`,
  );
  const tokens = await client.authorizationCodeGrant(config, new URL(final.location!), {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  return tokens.access_token;
}

async function callNotes(
  demo: RunningDemo,
  accessToken?: string,
): Promise<{ status: number; challenge: string | null; body: Record<string, unknown> }> {
  const response = await fetch(`${demo.urls.resourceOrigin}/notes`, {
    headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {},
  });
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe('gatehouse demo: three parties on one machine', () => {
  let demo: RunningDemo;
  let browser: Browser;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    [demo, browser] = await Promise.all([startTestDemo(), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('in Chromium: the confidential web client signs in, calls the API and refreshes; then the SPA signs in by SSO and calls the API', async () => {
    const context: BrowserContext = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    context.setDefaultTimeout(10_000);
    const page: Page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      const text = message.text();
      // Failed loads are reported below with their URL.
      if (
        (message.type() === 'error' && !text.startsWith('Failed to load resource')) ||
        /Content Security Policy/i.test(text)
      ) {
        problems.push(`[${message.type()}] ${text} (${page.url()})`);
      }
    });
    page.on('response', (response) => {
      // The authorization server has no favicon; everything else must load.
      if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico')
        problems.push(`[http ${response.status()}] ${response.url()}`);
    });
    page.on('requestfailed', (request) =>
      problems.push(`[failed] ${request.url()}: ${request.failure()?.errorText ?? ''}`),
    );
    page.on('pageerror', (error) => problems.push(`[pageerror] ${error.message}`));
    const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `demo-${name}.png`), fullPage: true });
    const { urls } = demo;

    try {
      // --- the confidential web client -----------------------------------------------------
      await page.goto(urls.client);
      await page.locator('h1', { hasText: 'A confidential web client' }).waitFor();
      await shot('01-web-home');

      await page.click('#sign-in');
      // Front channel: the browser is at Gatehouse's login page.
      await page.waitForURL((url) => url.origin === urls.issuer);
      const authorizationRequest = new URL(page.url());
      await page.locator('input[name=username]').waitFor();
      await shot('02-login');
      await page.fill('input[name=username]', DEMO_USER.username);
      await page.fill('input[name=password]', DEMO_USER.password);
      await page.click('button[type=submit]');

      await page.locator('button[name=decision][value=allow]').waitFor();
      await shot('03-consent-web');
      await page.click('button[name=decision][value=allow]');

      // Back at the client, which exchanged the code on the back channel.
      await page.waitForURL(`${urls.client}/`);
      await page.locator('h1', { hasText: 'Signed in' }).waitFor();
      assert.equal(
        authorizationRequest.pathname.startsWith('/authorize') ||
          authorizationRequest.pathname.startsWith('/interaction'),
        true,
        authorizationRequest.href,
      );
      const steps = await page.locator('#steps').innerText();
      assert.match(steps, /Front channel/i);
      assert.match(steps, /Back channel/i);
      assert.match(steps, /your browser never saw them/);
      const accessClaims = JSON.parse(await page.locator('#access-token-claims').innerText()) as Record<
        string,
        unknown
      >;
      assert.equal(accessClaims['aud'], urls.resource, 'RFC 8707: the access token is for the notes API');
      assert.equal(accessClaims['iss'], urls.issuer);
      assert.equal(accessClaims['client_id'], DEMO_WEB_CLIENT_ID);
      assert.deepEqual(String(accessClaims['scope']).split(' ').sort(), DEMO_SCOPE.split(' ').sort());
      const accessHeader = JSON.parse(await page.locator('#access-token-header').innerText()) as Record<
        string,
        unknown
      >;
      assert.equal(accessHeader['typ'], 'at+jwt');
      const idClaims = JSON.parse(await page.locator('#id-token-claims').innerText()) as Record<string, unknown>;
      assert.equal(idClaims['aud'], DEMO_WEB_CLIENT_ID);
      assert.equal(idClaims['sub'], accessClaims['sub']);
      assert.equal((await page.locator('#subject').innerText()).trim(), accessClaims['sub']);
      const firstRefresh = (await page.locator('#refresh-token').innerText()).trim();
      assert.match(firstRefresh, /^.{4}….{10}$/, 'the refresh token is shown truncated');
      await shot('04-web-signed-in');

      await page.click('#call-api');
      await page.locator('#api-result').waitFor();
      const apiText = await page.locator('#api-result').innerText();
      assert.match(apiText, /200 OK/);
      assert.match(apiText, /Welcome to the notes API/);
      const apiJson = JSON.parse((await page.locator('#api-json').textContent()) ?? '') as Record<string, unknown>;
      assert.equal(apiJson['sub'], accessClaims['sub'], 'the notes of the token subject');
      assert.equal(apiJson['aud'], urls.resource);
      assert.match(await page.locator('#steps').innerText(), /API call/i);
      await shot('05-web-api');

      await page.click('#refresh');
      await page.locator('#previous-refresh-token').waitFor();
      const secondRefresh = (await page.locator('#refresh-token').innerText()).trim();
      assert.notEqual(secondRefresh, firstRefresh, 'refresh token rotation: a new refresh token');
      assert.equal((await page.locator('#previous-refresh-token').innerText()).trim(), firstRefresh);
      assert.match(await page.locator('#steps').innerText(), /rotated the refresh token/);
      await shot('06-web-refreshed');

      // The refreshed access token works at the API too.
      await page.click('#call-api');
      await page.locator('#api-result').waitFor();
      assert.match(await page.locator('#api-result').innerText(), /Welcome to the notes API/);

      // --- the SPA (public client) ---------------------------------------------------------
      await page.goto(urls.spa);
      await page.locator('html[data-ready=true]').waitFor();
      await shot('07-spa-home');
      await page.click('#spa-sign-in');
      // Single sign-on: Gatehouse recognises the session and goes straight to consent for the new client.
      await page.waitForURL((url) => url.origin === urls.issuer);
      await page.locator('button[name=decision][value=allow]').waitFor();
      assert.equal(await page.locator('input[name=password]').count(), 0, 'no password asked again (SSO session)');
      await shot('08-consent-spa');
      await page.click('button[name=decision][value=allow]');

      // The redirect URI /spa/callback; the script exchanges the code cross-origin, then shows /spa/.
      await page.waitForURL(urls.spa);
      await page.locator('#spa-tokens').waitFor({ state: 'visible' });
      const spaSteps = await page.locator('#spa-steps').innerText();
      assert.match(spaSteps, /Token request/i);
      assert.match(spaSteps, /no client secret|There is no client secret/i);
      assert.match(await page.locator('#spa-title').innerText(), /^Signed in/);
      const spaAccess = JSON.parse(await page.locator('#spa-access-token-claims').innerText()) as Record<
        string,
        unknown
      >;
      assert.equal(spaAccess['aud'], urls.resource);
      assert.equal(spaAccess['client_id'], 'demo-spa');
      assert.equal(spaAccess['sub'], accessClaims['sub'], 'the same user');
      await shot('09-spa-signed-in');

      await page.click('#spa-call-api');
      await page.locator('#spa-notes').waitFor({ state: 'visible' });
      assert.match(await page.locator('#spa-api-result').innerText(), /200 OK[\s\S]*Welcome to the notes API/);
      assert.match(await page.locator('#spa-steps').innerText(), /CORS preflight/);
      await shot('10-spa-api');

      const spaFirstRefresh = (await page.locator('#spa-refresh-token').innerText()).trim();
      await page.click('#spa-refresh');
      await page.locator('#spa-steps', { hasText: 'rotated the refresh token' }).waitFor();
      assert.notEqual((await page.locator('#spa-refresh-token').innerText()).trim(), spaFirstRefresh);

      assert.deepEqual(problems, [], 'no console errors or CSP violations');
    } catch (error) {
      await shot('failure').catch(() => {});
      if (problems.length > 0) (error as Error).message += `\nbrowser console:\n${problems.join('\n')}`;
      throw error;
    } finally {
      await context.close();
    }
  });

  it('the API answers a request without a token with 401 and an RFC 6750 challenge naming its RFC 9728 metadata', async () => {
    const { status, challenge, body } = await callNotes(demo);
    assert.equal(status, 401);
    assert.equal(
      challenge,
      `Bearer realm="${demo.urls.resource}", resource_metadata="${demo.urls.resourceOrigin}/.well-known/oauth-protected-resource"`,
    );
    assert.equal(body['error'], undefined, 'RFC 6750 §3.1: no error code when no token was sent');

    const metadata = (await (
      await fetch(`${demo.urls.resourceOrigin}/.well-known/oauth-protected-resource`)
    ).json()) as Record<string, unknown>;
    assert.equal(metadata['resource'], demo.urls.resource);
    assert.deepEqual(metadata['authorization_servers'], [demo.urls.issuer]);
    assert.deepEqual(metadata['scopes_supported'], ['notes:read']);
  });

  it('the API refuses a token for another audience (401 invalid_token) and a token without notes:read (403 insufficient_scope)', async () => {
    // Control: the same client, with resource = the API, gets in.
    const good = await scriptedTokens(demo, { scope: 'openid notes:read', resource: demo.urls.resource });
    assert.equal((await callNotes(demo, good)).status, 200);

    // No resource indicator: the audience is the issuer, not the API.
    const forIssuer = await scriptedTokens(demo, { scope: 'openid notes:read' });
    assert.equal(decodeJwt(forIssuer).aud, demo.urls.issuer);
    const crossAudience = await callNotes(demo, forIssuer);
    assert.equal(crossAudience.status, 401);
    assert.equal(crossAudience.body['error'], 'invalid_token');
    assert.match(
      crossAudience.challenge ?? '',
      /^Bearer realm="[^"]+", error="invalid_token", error_description="[^"]*audience|not intended for this resource/,
    );
    assert.match(crossAudience.challenge ?? '', /resource_metadata="/);

    // The right audience, but not the scope.
    const noScope = await scriptedTokens(demo, { scope: 'openid', resource: demo.urls.resource });
    const insufficient = await callNotes(demo, noScope);
    assert.equal(insufficient.status, 403);
    assert.equal(insufficient.body['error'], 'insufficient_scope');
    assert.match(insufficient.challenge ?? '', /error="insufficient_scope".*scope="notes:read"/);
  });

  it('the API allows CORS from the SPA origin only (Authorization header allowed, WWW-Authenticate exposed)', async () => {
    const notes = `${demo.urls.resourceOrigin}/notes`;
    const preflight = await fetch(notes, {
      method: 'OPTIONS',
      headers: {
        origin: demo.urls.client,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), demo.urls.client);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/i);
    const actual = await fetch(notes, { headers: { origin: demo.urls.client } });
    assert.equal(actual.headers.get('access-control-allow-origin'), demo.urls.client);
    assert.match(actual.headers.get('access-control-expose-headers') ?? '', /www-authenticate/i);

    const elsewhere = await fetch(notes, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
  });
});

describe('gatehouse demo (the CLI command)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-demo-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts from an empty directory, prints the URLs and credentials, serves the three parties, and stops on SIGTERM', {
    timeout: 180_000,
  }, async () => {
    const [clientPort, serverPort, resourcePort] = await freePorts(3);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['PORT', 'GATEHOUSE_ISSUER', 'GATEHOUSE_DATABASE_URL', 'GATEHOUSE_SECRET', 'GATEHOUSE_CONFIG'])
      delete env[name];
    const tsx = import.meta.resolve('tsx');
    const child = spawn(
      process.execPath,
      [
        '--import',
        tsx,
        MAIN,
        'demo',
        '--client-port',
        String(clientPort),
        '--server-port',
        String(serverPort),
        '--resource-port',
        String(resourcePort),
      ],
      { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      // Started means the banner is out; an exit before it is a failure. No deadline of its own:
      // how long a start takes is for bench/, and a hang is caught by the test's timeout (3 minutes).
      const started = await new Promise<boolean>((resolve) => {
        const check = () => {
          if (stdout.includes('Press Ctrl-C to stop')) resolve(true);
        };
        child.stdout.on('data', check);
        child.on('close', () => resolve(false));
        check();
      });
      if (!started) assert.fail(`the demo did not start.\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      assert.match(stdout, new RegExp(`http://localhost:${clientPort}\\b`));
      assert.match(stdout, new RegExp(`http://localhost:${serverPort}\\b`));
      assert.match(stdout, new RegExp(`http://localhost:${resourcePort}\\b`));
      assert.match(stdout, /username demo, password demo-password/);
      assert.match(stdout, new RegExp(`client_id demo-web, client_secret ${DEMO_WEB_CLIENT_SECRET}`));
      assert.match(stdout, /client_id demo-spa/);
      assert.match(stderr, /development secret/, 'without GATEHOUSE_SECRET the development secret file applies');
      assert.ok(existsSync(join(dir, '.gatehouse-secret')));
      assert.ok(existsSync(join(dir, 'gatehouse-demo.db')), 'the default database sqlite:./gatehouse-demo.db');

      assert.equal((await fetch(`http://localhost:${clientPort}/`)).status, 200);
      const discovery = (await (
        await fetch(`http://localhost:${serverPort}/.well-known/openid-configuration`)
      ).json()) as Record<string, unknown>;
      assert.equal(discovery['issuer'], `http://localhost:${serverPort}`);
      assert.equal((await fetch(`http://localhost:${resourcePort}/notes`)).status, 401);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `exit code after SIGTERM; stderr:\n${stderr}`);
    assert.match(stderr, /Received SIGTERM; shutting down the demo/);
  });
});
