/**
 * RFC 6749 §4.1.2 ("The client MUST NOT use the authorization code more than once") under
 * concurrency: parallel redemptions of one code over HTTP, on every store (SQLite in memory,
 * SQLite in a WAL file, PostgreSQL), yield exactly one token response; every other attempt is
 * invalid_grant, and since those attempts are replays, the token that was issued ends revoked.
 *
 * Run: node --import tsx --test test/token/concurrency.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import type { RunningGatehouse } from '../../src/server.js';
import {
  CONFIDENTIAL_CLIENT,
  PUBLIC_CLIENT,
  STORE_TARGETS,
  startTestServer,
  type StoreTarget,
} from '../helpers/server.js';
import { postgresSkipMessage } from '../helpers/postgres.js';
import { assertNoStore, assertTokenError, codeRequest, obtainCode, postToken } from '../helpers/code-flow.js';

const PARALLEL = 20;

/** A file-backed SQLite database in a fresh temporary directory. */
const SQLITE_FILE_TARGET = {
  name: 'sqlite file',
  dirs: new Map<string, string>(),
  async url(): Promise<string | undefined> {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-concurrency-'));
    const url = `sqlite:${join(dir, 'gh.db')}`;
    this.dirs.set(url, dir);
    return url;
  },
  async cleanup(url: string): Promise<void> {
    const dir = this.dirs.get(url);
    if (dir) await rm(dir, { recursive: true, force: true });
  },
};

const TARGETS: Array<Pick<StoreTarget, 'url' | 'cleanup'> & { name: string }> = [...STORE_TARGETS, SQLITE_FILE_TARGET];

for (const target of TARGETS) {
  describe(`RFC 6749 §4.1.2: concurrent redemption of one code on ${target.name}`, () => {
    let gatehouse: RunningGatehouse;
    let databaseUrl: string | undefined;

    before(async () => {
      databaseUrl = await target.url();
      if (databaseUrl === undefined) {
        // PostgreSQL must really run here (see test/helpers/postgres.ts); fail rather than skip.
        throw new Error(postgresSkipMessage());
      }
      gatehouse = await startTestServer({ databaseUrl });
      if (target.name === 'postgres') assert.equal(gatehouse.store.dialect, 'postgres');
    });
    after(async () => {
      if (databaseUrl === undefined) return;
      await gatehouse?.close();
      await target.cleanup(databaseUrl);
    });

    for (const client of [CONFIDENTIAL_CLIENT, PUBLIC_CLIENT]) {
      it(`RFC 6749 §4.1.2: ${PARALLEL} parallel redemptions by the ${client.token_endpoint_auth_method === 'none' ? 'public' : 'confidential'} client yield exactly one 200 and ${PARALLEL - 1} invalid_grant`, async () => {
        const obtained = await obtainCode(gatehouse, client);
        const request =
          client.token_endpoint_auth_method === 'none'
            ? codeRequest(obtained, { client_id: client.client_id })
            : codeRequest(obtained);
        const options =
          client.client_secret === undefined ? {} : { basic: { id: client.client_id, secret: client.client_secret } };
        const responses = await Promise.all(
          Array.from({ length: PARALLEL }, () => postToken(gatehouse, request, options)),
        );

        const ok = responses.filter((response) => response.status === 200);
        const refused = responses.filter((response) => response.status !== 200);
        assert.equal(
          ok.length,
          1,
          `statuses: ${responses.map((response) => `${response.status} ${response.text}`).join('\n')}`,
        );
        assert.equal(refused.length, PARALLEL - 1);
        for (const response of refused) assertTokenError(response, 400, 'invalid_grant');
        const [winner] = ok;
        assertNoStore(winner!);
        assert.equal(winner!.body['token_type'], 'Bearer');

        // The other attempts were replays (RFC 6749 §4.1.2: SHOULD revoke the tokens issued from the code),
        // however they interleaved with the winning redemption.
        const jti = decodeJwt(winner!.body['access_token'] as string).jti!;
        const record = await gatehouse.store.accessTokens.get(jti);
        assert.ok(record, 'the issued access token is recorded');
        assert.notEqual(record.revokedAt, null, 'the access token issued from a replayed code is revoked');
        const grant = await gatehouse.store.grants.get(record.grantId!);
        assert.notEqual(grant?.revokedAt ?? null, null, 'the grant is revoked');
      });
    }
  });
}
