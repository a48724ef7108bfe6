/**
 * What observability costs on the request path, measured in this process with process.cpuUsage
 * (interleaved rounds, median reported):
 *
 * - a store read (`clients.get` on SQLite) called directly, through the tracing Proxy without an
 *   OpenTelemetry SDK (the default: no span), and with an SDK whose spans go nowhere;
 * - recording one HTTP request in the Prometheus metrics (GatehouseMetrics.observeRequest).
 *
 *   node --import tsx bench/observability.ts [--iterations 100000] [--rounds 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { EventBus } from '../src/core/events.js';
import { GatehouseMetrics } from '../src/operations/metrics.js';
import { openStore } from '../src/store/open-store.js';
import { tracedStore } from '../src/store/traced-store.js';
import { parseArgs } from './lib/common.js';

const args = parseArgs(process.argv.slice(2));
const iterations = Number(args.get('iterations') ?? 100_000);
const rounds = Number(args.get('rounds') ?? 5);

async function nanosPerCall(operation: () => unknown): Promise<number> {
  for (let i = 0; i < iterations / 10; i++) await operation();
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await operation();
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / iterations;
}

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-observability-'));
const store = await openStore(`sqlite:${join(dir, 'gatehouse.db')}`);
await store.migrate();
const traced = tracedStore(store);
const metrics = new GatehouseMetrics({
  events: new EventBus(),
  poolStats: () => null,
  dialect: 'sqlite',
  ready: () => true,
});
const routes = ['/token', '/authorize', '/interaction/:id/login', '/userinfo'];
let n = 0;
const observe = () =>
  metrics.observeRequest({
    route: routes[n++ & 3]!,
    method: 'POST',
    status: n & 8 ? 400 : 200,
    error: n & 8 ? 'invalid_grant' : null,
    seconds: 0.0012,
  });

const samples: Record<string, number[]> = {};
const record = (name: string, value: number) => {
  samples[name] ??= [];
  samples[name].push(value);
};
try {
  for (let round = 0; round < rounds; round++) {
    record('store.clients.get, direct', await nanosPerCall(() => store.clients.get('web')));
    record('store.clients.get, traced, no SDK', await nanosPerCall(() => traced.clients.get('web')));
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    record('store.clients.get, traced, SDK without exporter', await nanosPerCall(() => traced.clients.get('web')));
    trace.disable();
    record('metrics.observeRequest', await nanosPerCall(observe));
  }
} finally {
  metrics.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const [name, values] of Object.entries(samples)) {
  console.log(
    `${name.padEnd(48)} median ${median(values).toFixed(0).padStart(6)} ns   rounds ${values.map((v) => v.toFixed(0)).join(' ')}`,
  );
}
