/**
 * TLS and headers: built-in HTTPS (settings, config file, CLI), trust proxy, HSTS (RFC 6797),
 * the refusal of a plain-http non-loopback issuer and its explicit override (RFC 8414 §2), and
 * the security headers of every HTML page Gatehouse can produce.
 *
 * The certificate is self-signed and generated here with openssl (a test-only key pair that
 * lives in a temporary directory).
 *
 * Run: node --import tsx --test test/http/tls-and-headers.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolveSettingsInput } from '../../src/config/resolve-settings.js';
import { HSTS_VALUE } from '../../src/http/security-headers.js';
import type { RunningGatehouse } from '../../src/server.js';
import { startGatehouse } from '../../src/server.js';
import { withCliServer } from '../helpers/cli.js';
import { ALICE, CONFIDENTIAL_CLIENT, TEST_SECRET, startTestServer } from '../helpers/server.js';
import { UserAgent, type PageResponse } from '../helpers/user-agent.js';
import { authorizeParams, authorizeUrl } from '../helpers/code-flow.js';
import { selfSignedCertificate } from '../helpers/tls-cert.js';
import { assertConfigError, proxiedIssuerSettings, resolveSettingsIn } from '../helpers/settings.js';

let dir: string;
let certFile: string;
let keyFile: string;
let cert: string;

before(async () => {
  const certificate = await selfSignedCertificate();
  ({ dir, certFile, keyFile, cert } = certificate);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function resolveWith(input: Partial<ResolveSettingsInput> & { logs?: string[] }) {
  return resolveSettingsIn({ cwd: dir, secret: TEST_SECRET }, input);
}

/** GET over https trusting only the test certificate. */
function httpsGet(
  url: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca: cert, method: 'GET' }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('settings: --tls-cert/--tls-key, trust proxy and the http-issuer override', () => {
  it('built-in HTTPS from flags: both PEM files are read, the default issuer becomes https', async () => {
    const settings = await resolveWith({ flags: { tlsCert: certFile, tlsKey: keyFile, port: 9443 } });
    assert.ok(settings.tls);
    assert.match(settings.tls.cert, /-----BEGIN CERTIFICATE-----/);
    assert.match(settings.tls.key, /-----BEGIN PRIVATE KEY-----/);
    assert.equal(settings.tls.certFile, certFile);
    assert.equal(settings.issuer, 'https://localhost:9443');
  });

  it('built-in HTTPS from GATEHOUSE_TLS_CERT/GATEHOUSE_TLS_KEY and from the config file (paths relative to it)', async () => {
    const fromEnv = await resolveWith({
      env: { GATEHOUSE_SECRET: TEST_SECRET, GATEHOUSE_TLS_CERT: certFile, GATEHOUSE_TLS_KEY: keyFile },
    });
    assert.equal(fromEnv.tls?.keyFile, keyFile);
    const config = join(dir, 'tls.yaml');
    await writeFile(config, 'tls_cert: cert.pem\ntls_key: key.pem\ntrust_proxy: [10.0.0.0/8, 127.0.0.1]\n');
    const fromConfig = await resolveWith({ flags: { config }, cwd: tmpdir() });
    assert.equal(fromConfig.tls?.certFile, certFile);
    assert.equal(fromConfig.trustProxy, '10.0.0.0/8,127.0.0.1');
  });

  it('HTTPS needs both files, readable, in PEM', async () => {
    await assertConfigError(
      resolveWith({ flags: { tlsCert: certFile } }),
      /needs both a certificate and a private key: --tls-cert is set but a private key \(--tls-key\) is not/,
    );
    await assertConfigError(
      resolveWith({ flags: { tlsKey: keyFile } }),
      /--tls-key is set but a certificate \(--tls-cert\) is not/,
    );
    await assertConfigError(
      resolveWith({ flags: { tlsCert: join(dir, 'missing.pem'), tlsKey: keyFile } }),
      /Cannot read the TLS certificate .*missing\.pem \(from --tls-cert\)/,
    );
    const notPem = join(dir, 'not.pem');
    await writeFile(notPem, 'hello');
    await assertConfigError(
      resolveWith({ flags: { tlsCert: certFile, tlsKey: notPem } }),
      /TLS private key .*not\.pem \(from --tls-key\) is not a PEM file/,
    );
  });

  it('administrative commands (requireSecret: false) do not read the TLS files', async () => {
    const settings = await resolveWith({
      flags: { tlsCert: join(dir, 'missing.pem'), tlsKey: keyFile },
      requireSecret: false,
    });
    assert.equal(settings.tls, null);
  });

  it('trust proxy: true, false, a hop count, or addresses and CIDR ranges; anything else is refused', async () => {
    assert.equal((await resolveWith({})).trustProxy, false);
    assert.equal((await resolveWith({ flags: { trustProxy: 'true' } })).trustProxy, true);
    assert.equal((await resolveWith({ flags: { trustProxy: '2' } })).trustProxy, 2);
    assert.equal(
      (
        await resolveWith({
          env: { GATEHOUSE_SECRET: TEST_SECRET, GATEHOUSE_TRUST_PROXY: '10.0.0.0/8, ::1, loopback' },
        })
      ).trustProxy,
      '10.0.0.0/8, ::1, loopback',
    );
    await assertConfigError(
      resolveWith({ flags: { trustProxy: 'proxy.example' } }),
      /--trust-proxy.*"proxy\.example" is none of these/,
    );
    await assertConfigError(
      resolveWith({ flags: { trustProxy: '10.0.0.0/33' } }),
      /"10\.0\.0\.0\/33" is none of these/,
    );
    const config = join(dir, 'bad-proxy.yaml');
    await writeFile(config, 'trust_proxy: {a: 1}\n');
    await assertConfigError(
      resolveWith({ flags: { config } }),
      /trust_proxy must be true, false, a number of proxy hops/,
    );
  });

  it('RFC 8414 §2: a plain-http issuer on a non-loopback host is refused unless explicitly overridden, and then loudly warned about', async () => {
    await assertConfigError(
      resolveWith({ flags: { issuer: 'http://auth.internal.example' } }),
      /refuses to start: issuer http:\/\/auth\.internal\.example is not https.*--allow-http-issuer/,
    );
    for (const input of [
      { flags: { issuer: 'http://auth.internal.example', allowHttpIssuer: true } },
      {
        flags: { issuer: 'http://auth.internal.example' },
        env: { GATEHOUSE_SECRET: TEST_SECRET, GATEHOUSE_ALLOW_HTTP_ISSUER: 'true' },
      },
    ]) {
      const logs: string[] = [];
      const settings = await resolveWith({ ...input, logs });
      assert.equal(settings.issuer, 'http://auth.internal.example');
      assert.equal(settings.allowHttpIssuer, true);
      assert.ok(
        logs.some((line) => /^WARNING: INSECURE: the issuer http:\/\/auth\.internal\.example is plain http/.test(line)),
        logs.join('\n'),
      );
    }
    const config = join(dir, 'http-issuer.yaml');
    await writeFile(config, 'issuer: http://auth.internal.example\nallow_http_issuer: true\n');
    assert.equal((await resolveWith({ flags: { config } })).issuer, 'http://auth.internal.example');
  });

  it('an https issuer served as plain http with no trusted proxy is warned about', async () => {
    const logs: string[] = [];
    await resolveWith({ flags: { issuer: 'https://auth.example.com' }, logs });
    assert.ok(
      logs.some((line) => /serves plain http and trusts no proxy/.test(line)),
      logs.join('\n'),
    );
    const quiet: string[] = [];
    await resolveWith({ flags: { issuer: 'https://auth.example.com', trustProxy: 'true' }, logs: quiet });
    assert.ok(!quiet.some((line) => /trusts no proxy/.test(line)));
  });
});

describe('built-in HTTPS', () => {
  it('RFC 8414 §2 / RFC 6797 §7.1: Gatehouse serves https with the given certificate, an https issuer and HSTS', async () => {
    const settings = await resolveWith({
      flags: { tlsCert: certFile, tlsKey: keyFile, port: 0, host: '127.0.0.1', database: 'sqlite::memory:' },
    });
    const gatehouse = await startGatehouse(
      { ...settings, users: [ALICE], clients: [CONFIDENTIAL_CLIENT] },
      { logger: false, issuerFromAddress: true },
    );
    try {
      assert.match(gatehouse.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const discovery = await httpsGet(`${gatehouse.url}/.well-known/openid-configuration`);
      assert.equal(discovery.status, 200);
      assert.equal((JSON.parse(discovery.body) as { issuer: string }).issuer, gatehouse.url);
      assert.equal(discovery.headers['strict-transport-security'], HSTS_VALUE);
      // The browser binding cookie is Secure on an https issuer (RFC 6265 §4.1.2.5).
      const url = authorizeUrl(gatehouse, authorizeParams(CONFIDENTIAL_CLIENT, { scope: 'openid', state: undefined }));
      const authorize = await httpsGet(url);
      assert.equal(authorize.status, 303);
      assert.match(String(authorize.headers['set-cookie']), /; Secure/);
      assert.equal(authorize.headers['strict-transport-security'], HSTS_VALUE);
    } finally {
      await gatehouse.close();
    }
  });

  it('gatehouse start --tls-cert --tls-key serves https', { timeout: 30_000 }, async () => {
    const args = [
      '--database',
      'sqlite::memory:',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--tls-cert',
      certFile,
      '--tls-key',
      keyFile,
    ];
    await withCliServer(args, { env: { GATEHOUSE_SECRET: TEST_SECRET } }, async (issuer) => {
      assert.match(issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
      const jwks = await httpsGet(`${issuer}/jwks`);
      assert.equal(jwks.status, 200);
      assert.equal(jwks.headers['strict-transport-security'], HSTS_VALUE);
    });
  });
});

describe('trust proxy', () => {
  /** A server that logs into `lines`. */
  async function serverLogging(trustProxy: boolean | string, lines: string[]): Promise<RunningGatehouse> {
    return startGatehouse(proxiedIssuerSettings({ trustProxy }), {
      logger: { write: (line: string) => void lines.push(line) },
    });
  }
  const FORWARDED = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' };
  const loggedAddresses = (lines: string[]) =>
    lines
      .map((line) => JSON.parse(line) as { req?: { remoteAddress?: string } })
      .flatMap((entry) => (entry.req?.remoteAddress ? [entry.req.remoteAddress] : []));

  const cases: Array<[name: string, trustProxy: boolean | string, hsts: string | null, loggedAddress: string]> = [
    [
      'RFC 7239 / X-Forwarded-*: behind a trusted proxy, the forwarded client IP is logged and https responses carry HSTS',
      '127.0.0.1',
      HSTS_VALUE,
      '203.0.113.7',
    ],
    [
      'RFC 6797 §7.2: without trust proxy the forwarded headers are ignored: no HSTS over plain http, the socket address is logged',
      false,
      null,
      '127.0.0.1',
    ],
  ];
  for (const [name, trustProxy, hsts, loggedAddress] of cases) {
    it(name, async () => {
      const lines: string[] = [];
      const gatehouse = await serverLogging(trustProxy, lines);
      try {
        const response = await fetch(`http://127.0.0.1:${new URL(gatehouse.url).port}/jwks`, { headers: FORWARDED });
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('strict-transport-security'), hsts);
        assert.deepEqual(loggedAddresses(lines), [loggedAddress]);
      } finally {
        await gatehouse.close();
      }
    });
  }
});

describe('security headers on every HTML page', () => {
  let gatehouse: RunningGatehouse;
  before(async () => {
    gatehouse = await startTestServer({
      clients: [{ ...CONFIDENTIAL_CLIENT, post_logout_redirect_uris: ['http://127.0.0.1:9000/bye'] }],
    });
  });
  after(async () => {
    await gatehouse.close();
  });

  async function get(ua: UserAgent | null, path: string): Promise<PageResponse> {
    if (ua) return ua.request(path);
    const response = await fetch(new URL(path, gatehouse.url), { redirect: 'manual' });
    return {
      status: response.status,
      url: path,
      location: response.headers.get('location'),
      headers: response.headers,
      body: await response.text(),
    };
  }

  function params(overrides: Record<string, string> = {}): Record<string, string | undefined> {
    return authorizeParams(CONFIDENTIAL_CLIENT, { state: 's', ...overrides });
  }

  it("CSP with frame-ancestors 'none', nosniff, Referrer-Policy no-referrer and no-store on login, consent, error, form_post, 405, logout confirmation and signed-out pages", async () => {
    const pages: Array<[string, PageResponse]> = [];
    const ua = new UserAgent(gatehouse.url);
    const login = await ua.navigate(authorizeUrl(gatehouse, params()));
    pages.push(['login', login]);
    const action = /<form[^>]*action="([^"]+)"/.exec(login.body)![1]!;
    const failed = await ua.request(action, {
      form: {
        csrf_token: /name="csrf_token" value="([^"]+)"/.exec(login.body)![1]!,
        username: ALICE.username,
        password: 'wrong',
      },
    });
    pages.push(['login after a failed attempt', await ua.navigate(new URL(failed.location!, gatehouse.url).href)]);
    const consent = await ua.submit(await ua.navigate(login.url), {
      username: ALICE.username,
      password: ALICE.password,
    });
    pages.push(['consent', consent]);
    const codeRedirect = await ua.submit(consent, { decision: 'allow' });
    pages.push([
      'form_post response',
      await ua.navigate(authorizeUrl(gatehouse, params({ response_mode: 'form_post' }))),
    ]);
    pages.push(['error page (unknown client)', await get(null, `/authorize?client_id=nobody`)]);
    pages.push([
      'error page (bad redirect_uri)',
      await get(null, new URL(authorizeUrl(gatehouse, params({ redirect_uri: 'http://127.0.0.1:9000/other' }))).href),
    ]);
    pages.push(['error page (no such interaction)', await get(ua, '/interaction/AAAAAAAAAAAAAAAAAAAAAA')]);
    pages.push(['405 page', await ua.request('/authorize', { method: 'PUT' })]);
    pages.push(['logout confirmation', await ua.request('/logout')]);
    pages.push(['signed-out page', await get(null, '/logout')]);

    assert.match(
      pages.find(([name]) => name === 'form_post response')![1].body,
      /<form method="post" action="http:\/\/127\.0\.0\.1:9000\/callback"/,
    );
    assert.match(pages.find(([name]) => name === 'logout confirmation')![1].body, /Sign out of Gatehouse\?/);
    assert.match(pages.find(([name]) => name === 'signed-out page')![1].body, /You are signed out/);
    for (const [name, page] of pages) {
      assert.match(page.headers.get('content-type') ?? '', /^text\/html; charset=utf-8$/, name);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /frame-ancestors 'none'/, name);
      assert.match(csp, /default-src 'none'/, name);
      assert.equal(page.headers.get('x-frame-options'), 'DENY', name);
      assert.equal(page.headers.get('x-content-type-options'), 'nosniff', name);
      assert.equal(page.headers.get('referrer-policy'), 'no-referrer', name);
      assert.equal(page.headers.get('cache-control'), 'no-store', name);
    }
    // The redirect that carries the code (RFC 9700 §4.2.4) and every JSON answer too.
    assert.equal(codeRedirect.status, 303);
    assert.match(codeRedirect.location ?? '', /[?&]code=/);
    assert.equal(codeRedirect.headers.get('referrer-policy'), 'no-referrer');
    const jwks = await get(null, '/jwks');
    assert.equal(jwks.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(jwks.headers.get('referrer-policy'), 'no-referrer');
    assert.match(jwks.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});
