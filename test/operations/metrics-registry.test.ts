/**
 * prom-client keeps metrics in registries: each server has its own, so two servers in one
 * process count separately and prom-client's global registry stays empty.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { register } from 'prom-client';
import { startTestServer } from '../helpers/server.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

async function discoveryCount(url: string): Promise<string | undefined> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  return text
    .split('\n')
    .find((line) => line.startsWith('gatehouse_http_requests_total{route="/.well-known/openid-configuration"'));
}

describe('metrics registries', () => {
  it('Prometheus exposition: two servers in one process keep separate counts, none in the global registry', async () => {
    const first = await startTestServer({ settings: { metricsToken: METRICS_TOKEN } });
    const second = await startTestServer({ settings: { metricsToken: METRICS_TOKEN } });
    try {
      for (let i = 0; i < 3; i++)
        assert.equal((await fetch(`${first.url}/.well-known/openid-configuration`)).status, 200);
      assert.equal((await fetch(`${second.url}/.well-known/openid-configuration`)).status, 200);
      assert.match((await discoveryCount(first.url)) ?? '', / 3$/);
      assert.match((await discoveryCount(second.url)) ?? '', / 1$/);
      assert.equal(register.getMetricsAsArray().length, 0);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
