/**
 * The flow inspector (docs/inspector.md): off by default (no route, no recording), what one flow
 * shows when it is on (lanes, channels, checks, failures with their spec section, secrets only as
 * short hashes), the resource lane, and the start refusal on a non-loopback issuer. The
 * recording runs on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { secretHash } from '../../src/core/inspector/flow-model.js';
import { createVerifier } from '../../src/resource/resource.js';
import type { RunningGatehouse } from '../../src/server.js';
import { s256Challenge } from '../../src/core/pkce.js';
import {
  authorizeParams,
  authorizeUrl,
  codeRequest,
  newVerifier,
  obtainCode,
  postToken,
} from '../helpers/code-flow.js';
import { UserAgent } from '../helpers/user-agent.js';
import {
  ALICE,
  CONFIDENTIAL_CLIENT,
  PUBLIC_CLIENT,
  STORE_TARGETS,
  TEST_SECRET,
  onStoreTarget,
  startTestServer,
} from '../helpers/server.js';
import { assertConfigError, resolveSettingsIn } from '../helpers/settings.js';

const INSPECTOR_ON = { inspector: { ...DEFAULT_SETTINGS.inspector, enabled: true } };
const basic = { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! };

async function page(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, { headers });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/** The flow page a `Gatehouse-Flow` header or inspector link names, once its steps are written. */
async function flowPage(gatehouse: RunningGatehouse, url: string) {
  await gatehouse.context.inspector!.flush();
  const shown = await page(url);
  assert.equal(shown.status, 200, shown.body.slice(0, 300));
  return shown.body;
}

/** Flow id of the newest flow of a client. */
async function newestFlow(gatehouse: RunningGatehouse, clientId: string): Promise<string> {
  await gatehouse.context.inspector!.flush();
  const [flow] = await gatehouse.context.inspector!.recent({ clientId, limit: 1 });
  assert.ok(flow, `no flow of ${clientId}`);
  return flow.flowId;
}

function assertNoSecret(body: string, secrets: Array<string | null | undefined>): void {
  for (const secret of secrets) {
    if (secret === null || secret === undefined) continue;
    assert.ok(!body.includes(secret), `a secret appears in the inspector page: ${secret.slice(0, 8)}…`);
  }
}

describe('flow inspector: off by default', () => {
  it('answers 404 at /_gatehouse/* and records nothing when off', async () => {
    const gatehouse = await startTestServer({});
    try {
      assert.equal(gatehouse.context.inspector, undefined);
      for (const path of ['/_gatehouse/flows', '/_gatehouse/inspector.js', '/_gatehouse/flows/events']) {
        assert.equal((await page(`${gatehouse.url}${path}`)).status, 404, path);
      }
      const report = await fetch(`${gatehouse.url}/_gatehouse/resource-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'outcome=accepted&jti=x',
      });
      assert.equal(report.status, 404);
      const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
      assert.equal((await postToken(gatehouse, codeRequest(obtained), { basic })).status, 200);
      const replay = await postToken(gatehouse, codeRequest(obtained), { basic });
      assert.equal(replay.status, 400);
      assert.equal(replay.headers.get('gatehouse-flow'), null);
      assert.deepEqual(await gatehouse.store.inspector.recentSteps({ limit: 10 }), []);
    } finally {
      await gatehouse.close();
    }
  });

  it('refuses to start on a non-loopback issuer unless allow_remote and an access token are set', async () => {
    const where = { cwd: tmpdir(), secret: TEST_SECRET };
    const remote = { GATEHOUSE_ISSUER: 'https://id.example.com', GATEHOUSE_SECRET: TEST_SECRET };
    const config = (data: Record<string, unknown>) => ({ data, source: 'test config' });
    await assertConfigError(
      resolveSettingsIn(where, { flags: { dev: true }, env: remote }),
      /flow inspector .* not a loopback address.*inspector\.allow_remote: true and inspector\.access_token/,
    );
    await assertConfigError(
      resolveSettingsIn(where, {
        env: { ...remote, GATEHOUSE_INSPECTOR: 'true' },
        config: config({ inspector: { allow_remote: true } }),
      }),
      /set inspector\.access_token/,
    );
    const allowed = await resolveSettingsIn(where, {
      env: { ...remote, GATEHOUSE_INSPECTOR: 'true', GATEHOUSE_INSPECTOR_TOKEN: 'inspector-token-0123456789' },
      config: config({ inspector: { allow_remote: true } }),
    });
    assert.equal(allowed.inspector.enabled, true);
    const loopback = await resolveSettingsIn(where, { flags: { dev: true } });
    assert.equal(loopback.inspector.enabled, true);
    assert.equal((await resolveSettingsIn(where, {})).inspector.enabled, false);
  });
});

describe('flow inspector: one flow', () => {
  for (const target of STORE_TARGETS) {
    let gatehouse: RunningGatehouse | undefined;
    it(
      `draws a code flow on four lanes, front and back channel, with its checks and no secret (${target.name})`,
      onStoreTarget(
        target,
        async (databaseUrl) => {
          gatehouse = await startTestServer({ databaseUrl, settings: INSPECTOR_ON });
          const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
          const tokens = await postToken(gatehouse, codeRequest(obtained), { basic });
          assert.equal(tokens.status, 200, tokens.text);
          const flowId = await newestFlow(gatehouse, CONFIDENTIAL_CLIENT.client_id);
          const body = await flowPage(gatehouse, `${gatehouse.url}/_gatehouse/flows/${flowId}`);
          for (const lane of ['Browser', 'Client', 'Gatehouse', 'Resource'])
            assert.match(body, new RegExp(`data-lane="${lane.toLowerCase()}">${lane}<`));
          assert.match(
            body,
            /data-channel="front" data-from="browser" data-to="gatehouse" data-kind="request">.*GET \/authorize/,
          );
          assert.match(
            body,
            /data-channel="back" data-from="client" data-to="gatehouse" data-kind="request">.*POST \/token/,
          );
          assert.match(body, /PKCE: code_verifier matches the code_challenge: method S256: matched/);
          assert.match(body, /client authentication: client_secret_basic/);
          assert.match(body, /succeeded/);
          // The code is shown as its short hash where it is issued and where it is redeemed.
          const codeHash = secretHash(obtained.code);
          assert.ok(body.split(codeHash).length >= 3, `code ${codeHash} shown at issue and redemption`);
          assertNoSecret(body, [
            obtained.code,
            obtained.verifier,
            CONFIDENTIAL_CLIENT.client_secret,
            ALICE.password,
            tokens.body['access_token'] as string,
            tokens.body['refresh_token'] as string,
            tokens.body['id_token'] as string,
          ]);
          const list = await page(`${gatehouse.url}/_gatehouse/flows`);
          assert.match(
            list.body,
            new RegExp(
              `data-flow="${flowId}".*${CONFIDENTIAL_CLIENT.client_id}.*${ALICE.username}.*authorization_code.*succeeded`,
            ),
          );
        },
        async () => {
          await gatehouse?.close();
        },
      ),
    );
  }

  it('RFC 6749 §4.1.2: a replayed code links its JSON error to the flow (Gatehouse-Flow header), which explains the rule', async () => {
    const gatehouse = await startTestServer({ settings: INSPECTOR_ON });
    try {
      const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
      assert.equal((await postToken(gatehouse, codeRequest(obtained), { basic })).status, 200);
      const replay = await postToken(gatehouse, codeRequest(obtained), { basic });
      assert.equal(replay.status, 400);
      assert.equal(replay.body['error'], 'invalid_grant');
      assert.ok(!('flow' in replay.body), 'the flow link is a header, not in the body');
      const link = replay.headers.get('gatehouse-flow');
      assert.ok(link?.startsWith(`${gatehouse.url}/_gatehouse/flows/`), String(link));
      const body = await flowPage(gatehouse, link!);
      assert.match(body, /failed at step \d/);
      assert.match(body, /An authorization code may be redeemed once/);
      assert.match(body, /href="https:\/\/www\.rfc-editor\.org\/rfc\/rfc6749#section-4\.1\.2">RFC 6749 §4\.1\.2</);
      assert.match(body, /Likely fix, client developer/);
      assert.match(body, /Likely fix, operator/);
      assertNoSecret(body, [obtained.code, obtained.verifier]);
    } finally {
      await gatehouse.close();
    }
  });

  it('RFC 9700 §4.1.3: a wrong redirect_uri error page links to the flow, which marks the differing character', async () => {
    const gatehouse = await startTestServer({ settings: INSPECTOR_ON });
    try {
      const wrong = `${CONFIDENTIAL_CLIENT.redirect_uris[0]}x`;
      const error = await page(
        authorizeUrl(gatehouse, {
          response_type: 'code',
          client_id: CONFIDENTIAL_CLIENT.client_id,
          redirect_uri: wrong,
          scope: 'openid',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
        }),
      );
      assert.equal(error.status, 400);
      const link = /id="inspector-link"><a href="([^"]+)"/.exec(error.body)?.[1];
      assert.ok(link, 'the error page links to its flow');
      const body = await flowPage(gatehouse, link.replaceAll('&amp;', '&'));
      assert.match(body, /RFC 9700 §4\.1\.3/);
      assert.match(body, /<mark title="ends here"|<mark class="end"/);
      assert.match(body, /gatehouse clients update/);
    } finally {
      await gatehouse.close();
    }
  });

  it('RFC 9068 §4: the resource lane shows what gatehouse/resource reported (reportTo), linked through the jti', async () => {
    const gatehouse = await startTestServer({
      settings: INSPECTOR_ON,
      resources: [{ resource: 'https://api.example.com/', scopes: ['notes:read'], introspection_client_ids: [] }],
      clients: [{ ...PUBLIC_CLIENT, scope: 'openid notes:read' }],
    });
    try {
      const verifier = newVerifier();
      const final = await new UserAgent(gatehouse.url).authorize(
        authorizeUrl(gatehouse, {
          ...authorizeParams(PUBLIC_CLIENT, { scope: 'openid notes:read', code_challenge: s256Challenge(verifier) }),
          resource: 'https://api.example.com/',
        }),
        ALICE,
      );
      const code = new URL(final.location!).searchParams.get('code')!;
      const obtained = { code, verifier };
      const tokens = await postToken(gatehouse, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: PUBLIC_CLIENT.redirect_uris[0],
        code_verifier: verifier,
        client_id: PUBLIC_CLIENT.client_id,
        resource: 'https://api.example.com/',
      });
      assert.equal(tokens.status, 200, tokens.text);
      const accessToken = tokens.body['access_token'] as string;
      const reportTo = `${gatehouse.url}/_gatehouse/resource-events`;
      const sent: Array<Promise<unknown>> = [];
      const fetchAndKeep: typeof fetch = (input, init) => {
        const response = fetch(input, init);
        sent.push(response);
        return response;
      };
      const good = createVerifier({
        issuer: gatehouse.url,
        audience: 'https://api.example.com/',
        reportTo,
        fetch: fetchAndKeep,
      });
      await good.verify(
        new Request('https://api.example.com/notes', { headers: { authorization: `Bearer ${accessToken}` } }),
        ['notes:read'],
      );
      const wrong = createVerifier({
        issuer: gatehouse.url,
        audience: 'https://other.example.com/',
        reportTo,
        fetch: fetchAndKeep,
      });
      await assert.rejects(
        wrong.verify(
          new Request('https://other.example.com/notes', { headers: { authorization: `Bearer ${accessToken}` } }),
        ),
      );
      await Promise.all(sent);
      const flowId = await newestFlow(gatehouse, PUBLIC_CLIENT.client_id);
      const body = await flowPage(gatehouse, `${gatehouse.url}/_gatehouse/flows/${flowId}`);
      assert.match(
        body,
        /data-channel="back" data-from="client" data-to="resource" data-kind="request">.*GET \/notes \(https:\/\/api\.example\.com\/\)/,
      );
      assert.match(body, /access token: signature, iss, aud, exp, scope/);
      assert.match(body, /not intended for this resource/);
      assert.match(body, /RFC 8707 §2/);
      assertNoSecret(body, [accessToken, obtained.code, obtained.verifier]);
    } finally {
      await gatehouse.close();
    }
  });

  it('inspector.access_token: every /_gatehouse request must carry it', async () => {
    const gatehouse = await startTestServer({
      settings: { inspector: { ...INSPECTOR_ON.inspector, accessToken: 'inspector-token-0123456789' } },
    });
    try {
      const refused = await page(`${gatehouse.url}/_gatehouse/flows`);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic /);
      const bearer = await page(`${gatehouse.url}/_gatehouse/flows`, {
        authorization: 'Bearer inspector-token-0123456789',
      });
      assert.equal(bearer.status, 200);
      const basicAuth = `Basic ${Buffer.from('any:inspector-token-0123456789').toString('base64')}`;
      assert.equal((await page(`${gatehouse.url}/_gatehouse/flows`, { authorization: basicAuth })).status, 200);
    } finally {
      await gatehouse.close();
    }
  });
});
