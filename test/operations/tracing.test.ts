/**
 * OpenTelemetry tracing: with an SDK registered (here an in-memory exporter), a code flow leaves
 * one span per endpoint and per store call, named by route pattern and store method, carrying
 * the flow's id; without one nothing is recorded and the server works as before.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { CONFIDENTIAL_CLIENT, STORE_TARGETS, startTestServer } from '../helpers/server.js';
import { codeRequest, obtainCode, postToken } from '../helpers/code-flow.js';
import { FLOW_ID_ATTRIBUTE, TRACER_NAME, activeTracer } from '../../src/operations/tracing.js';
import { onStoreTargetServer } from '../helpers/operations-servers.js';

/** What an operator's SDK does (NodeSDK registers an AsyncLocalStorage context manager too). */
function registerSdk(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return exporter;
}

afterEach(() => {
  trace.disable();
  context.disable();
});

const named = (spans: ReadableSpan[], name: string) => spans.filter((span) => span.name === name);

for (const target of STORE_TARGETS) {
  describe(`tracing a code flow on ${target.name}`, () => {
    // Registered before each test's server starts.
    let exporter: InMemorySpanExporter;
    beforeEach(() => {
      exporter = registerSdk();
    });

    it(
      'OpenTelemetry: spans for /authorize, /token and store calls such as codes.redeem, with the flow id',
      onStoreTargetServer(target, {}, async (gatehouse) => {
        let flowId: string | undefined;
        gatehouse.context.events.on('code.issued', (event) => (flowId = event.flowId));
        const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
        const tokens = await postToken(gatehouse, codeRequest(obtained), {
          basic: { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! },
        });
        assert.equal(tokens.status, 200, tokens.text);
        assert.ok(flowId, 'the flow emitted code.issued');
        const spans = exporter.getFinishedSpans();
        assert.ok(spans.every((span) => span.instrumentationScope.name === TRACER_NAME));

        // One span per endpoint, named by method and route pattern.
        const authorize = named(spans, 'GET /authorize');
        assert.ok(authorize.length >= 1, `spans: ${spans.map((span) => span.name).join(', ')}`);
        assert.equal(authorize[0]!.attributes['http.request.method'], 'GET');
        assert.equal(authorize[0]!.attributes['http.route'], '/authorize');
        assert.ok(
          authorize.some(
            (span) =>
              span.attributes['http.response.status_code'] === 303 && span.attributes[FLOW_ID_ATTRIBUTE] === flowId,
          ),
        );
        const interaction = spans.filter((span) => span.name.startsWith('POST /interaction/:id'));
        assert.ok(interaction.length >= 1, 'the login POST');
        assert.ok(
          interaction.every((span) => span.attributes[FLOW_ID_ATTRIBUTE] === flowId),
          'interaction spans carry the flow id',
        );
        const [token] = named(spans, 'POST /token');
        assert.ok(token);
        assert.equal(token.attributes['http.route'], '/token');
        assert.equal(token.attributes['http.response.status_code'], 200);
        assert.equal(token.attributes[FLOW_ID_ATTRIBUTE], flowId);

        // One span per store call, a descendant of its endpoint span, with the flow id.
        const [redeem] = named(spans, 'store.codes.redeem');
        assert.ok(redeem, `spans: ${spans.map((span) => span.name).join(', ')}`);
        assert.equal(redeem.attributes[FLOW_ID_ATTRIBUTE], flowId);
        assert.equal(redeem.spanContext().traceId, token.spanContext().traceId, 'in the /token trace');
        assert.ok(named(spans, 'store.clients.get').length + named(spans, 'store.interactions.create').length >= 1);
        assert.equal(named(spans, 'store.interactions.create')[0]?.attributes[FLOW_ID_ATTRIBUTE], flowId);
        assert.equal(
          named(spans, 'store.interactions.create')[0]?.spanContext().traceId,
          authorize[0]!.spanContext().traceId,
        );
      }),
    );

    it(
      'OpenTelemetry: a store call inside a transaction is a span of the transaction span',
      onStoreTargetServer(target, {}, async (gatehouse) => {
        exporter.reset();
        const client = await gatehouse.store.transaction((store) => store.clients.get(CONFIDENTIAL_CLIENT.client_id));
        assert.equal(client?.clientId, CONFIDENTIAL_CLIENT.client_id);
        const [transaction] = named(exporter.getFinishedSpans(), 'store.transaction');
        const [get] = named(exporter.getFinishedSpans(), 'store.clients.get');
        assert.ok(transaction && get);
        assert.equal(get.parentSpanContext?.spanId, transaction.spanContext().spanId);
        // A failing call is recorded as an error and still rejects.
        await assert.rejects(
          gatehouse.store.transaction(async () => Promise.reject(new Error('rolled back'))),
          /rolled back/,
        );
        const failed = named(exporter.getFinishedSpans(), 'store.transaction').at(-1)!;
        assert.equal(failed.status.code, 2, 'SpanStatusCode.ERROR');
      }),
    );
  });
}

describe('tracing without an SDK', () => {
  it('OpenTelemetry API: no provider registered, no span is recorded and the flow works', async () => {
    // A provider that exists but is not registered globally: Gatehouse must not reach it.
    const exporter = new InMemorySpanExporter();
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    assert.equal(activeTracer(), null, 'the no-op provider is detected');
    const gatehouse = await startTestServer();
    try {
      const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
      const tokens = await postToken(gatehouse, codeRequest(obtained), {
        basic: { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! },
      });
      assert.equal(tokens.status, 200, tokens.text);
      assert.equal(exporter.getFinishedSpans().length, 0);
      assert.equal(trace.getActiveSpan(), undefined);
    } finally {
      await gatehouse.close();
    }
  });
});
