/**
 * The flow inspector on several instances sharing PostgreSQL: a flow whose front-channel steps
 * ran on one instance and whose token request ran on another shows completely in either
 * instance's inspector (its steps and links are in the store, migration 0022).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { basicAuthorization, codeRequest, obtainCode, postToken } from '../helpers/code-flow.js';
import { CONFIDENTIAL_CLIENT, POSTGRES_TARGET, onStoreTarget, startTestServer } from '../helpers/server.js';

const INSPECTOR_ON = { inspector: { ...DEFAULT_SETTINGS.inspector, enabled: true } };
const basic = { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! };

describe('flow inspector across instances (PostgreSQL)', () => {
  const servers: RunningGatehouse[] = [];
  it(
    'shows a flow that crossed two instances completely in either instance’s inspector',
    onStoreTarget(
      POSTGRES_TARGET,
      async (databaseUrl) => {
        const a = await startTestServer({ databaseUrl, settings: INSPECTOR_ON });
        servers.push(a);
        const b = await startTestServer({ databaseUrl, settings: INSPECTOR_ON });
        servers.push(b);
        assert.notEqual(a.context.inspector!.instance, b.context.inspector!.instance);
        // Authorization, login and consent on A; the code redeemed, then replayed, on B.
        const obtained = await obtainCode(a, CONFIDENTIAL_CLIENT);
        assert.equal((await postToken(b, codeRequest(obtained), { basic })).status, 200);
        const replay = await postToken(b, codeRequest(obtained), {
          authorization: basicAuthorization(basic.id, basic.secret),
        });
        assert.equal(replay.status, 400);
        const link = replay.headers.get('gatehouse-flow');
        assert.ok(link, 'the replay names its flow');
        const flowId = decodeURIComponent(link.split('/').at(-1)!);
        await a.context.inspector!.flush();
        await b.context.inspector!.flush();
        const shown: string[] = [];
        for (const server of [a, b]) {
          const response = await fetch(`${server.url}/_gatehouse/flows/${encodeURIComponent(flowId)}`);
          assert.equal(response.status, 200);
          const body = await response.text();
          shown.push(body.replace(/instance [0-9a-f]+/g, 'instance ?').replace(/http:\/\/127\.0\.0\.1:\d+/g, 'ISSUER'));
          assert.match(body, /GET \/authorize/);
          assert.match(body, /POST \/interaction\/#[0-9a-f]{4}\/login/);
          assert.match(body, /data-kind="request">.*POST \/token/);
          assert.match(body, /failed at step \d+/);
          assert.match(body, new RegExp(`instance ${a.context.inspector!.instance}`));
          assert.match(body, new RegExp(`instance ${b.context.inspector!.instance}`));
          const list = await (await fetch(`${server.url}/_gatehouse/flows`)).text();
          assert.match(list, new RegExp(`data-flow="${flowId}"`));
        }
        assert.equal(shown[0], shown[1], 'both instances draw the same flow');
      },
      async () => {
        for (const server of servers.splice(0)) await server.close();
      },
    ),
  );
});
