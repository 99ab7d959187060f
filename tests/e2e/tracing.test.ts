import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type HandoffClient } from '@handoff/client';
import { startGateway, type Gateway } from '@handoff/gateway';
import { and, hasTool, startScriptedModel, systemIncludes, type ManagedProcess, type ScriptedModel } from '@handoff/testing';
import pino from 'pino';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { startHandoff } from '../support/processes.js';
import tracedNetwork from './networks/traced.js';

const NETWORK = 'tests/e2e/networks/traced.ts';

/** A span as this test compares them, from the in-memory exporter or from OTLP/JSON. */
interface SeenSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  service: string;
}

/** An OTLP/HTTP JSON receiver that keeps every span it is sent in memory. */
async function startOtlpReceiver(): Promise<{ url: string; spans: SeenSpan[]; close(): Promise<void> }> {
  const spans: SeenSpan[] = [];
  type OtlpAttribute = { key: string; value: { stringValue?: string } };
  type OtlpBody = { resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: { name: string; traceId: string; spanId: string; parentSpanId?: string }[] }[] }[] };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpBody;
      for (const resourceSpans of body.resourceSpans) {
        const service = resourceSpans.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
        for (const scope of resourceSpans.scopeSpans) {
          for (const span of scope.spans) spans.push({ name: span.name, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId || undefined, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Acceptance of tracing: a conversation that runs through two worker processes (and the gateway
 * in this process) is one trace, with spans for the conversation, each hop, its queue wait, each
 * model call, the tool call and the handoff, each under the right parent.
 */
describe('OpenTelemetry tracing across processes', () => {
  const prefix = uniquePrefix('tracing');
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let model: ScriptedModel;
  let gateway: Gateway;
  let workers: ManagedProcess[] = [];
  let client: HandoffClient;

  beforeAll(async () => {
    provider.register();
    receiver = await startOtlpReceiver();
    model = await startScriptedModel({
      rules: [
        { when: (req) => systemIncludes('You are Triage.')(req) && !req.body.messages.some((m) => m.role === 'tool'), reply: { toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1' } }] } },
        { when: and(systemIncludes('You are Triage.'), hasTool('transfer_to_Billing')), reply: { toolCalls: [{ name: 'transfer_to_Billing', arguments: { reason: 'a double charge' } }] } },
        { when: systemIncludes('You are Billing.'), reply: { content: 'Refunded the second charge.' } },
      ],
    });
    const env = {
      REDIS_URL: redisUrl(),
      HANDOFF_PREFIX: prefix,
      OPENAI_BASE_URL: model.url,
      OPENAI_API_KEY: 'test',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    };
    workers = await Promise.all([
      startHandoff('triage worker', ['worker', '--network', NETWORK, '--agents', 'Triage'], { ...env, OTEL_SERVICE_NAME: 'triage-worker' }),
      startHandoff('billing worker', ['worker', '--network', NETWORK, '--agents', 'Billing'], { ...env, OTEL_SERVICE_NAME: 'billing-worker' }),
    ]);
    gateway = await startGateway({ network: tracedNetwork, redis: { url: redisUrl(), prefix }, logger: pino({ level: 'silent' }) });
    await gateway.waitUntilReady();
    client = createClient({ redis: { url: redisUrl(), prefix } });
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await gateway?.close();
    await Promise.all(workers.map((w) => w.stop()));
    await model?.close();
    await receiver?.close();
    await provider.shutdown();
  });

  it('shows one conversation through two worker processes as one trace', async () => {
    const conversation = await client.start({ agent: 'Triage', input: 'I was charged twice for A-1' });
    const result = await conversation.result({ timeoutMs: 20_000 });
    expect(result).toMatchObject({ status: 'completed', path: ['Triage', 'Billing'], output: 'Refunded the second charge.' });

    // The workers export in batches every 50 ms: wait until both hops' spans have arrived.
    const workerSpans = () => receiver.spans.filter((s) => s.name.startsWith('hop '));
    for (let i = 0; i < 200 && workerSpans().length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    await new Promise((resolve) => setTimeout(resolve, 200));

    const gatewaySpans: SeenSpan[] = exporter.getFinishedSpans().map((s) => ({
      name: s.name,
      traceId: s.spanContext().traceId,
      spanId: s.spanContext().spanId,
      parentSpanId: s.parentSpanContext?.spanId,
      service: 'gateway',
    }));
    const all = [...gatewaySpans, ...receiver.spans];
    const root = all.find((s) => s.name === 'conversation');
    expect(root, JSON.stringify(all.map((s) => s.name))).toBeDefined();
    const trace = all.filter((s) => s.traceId === root!.traceId);
    // Nothing of this conversation escaped into another trace.
    expect(trace.length).toBe(all.length);

    const byName = (name: string) => trace.filter((s) => s.name === name);
    const one = (name: string) => {
      const found = byName(name);
      expect(found, `spans named "${name}" in ${JSON.stringify(trace.map((s) => s.name))}`).toHaveLength(1);
      return found[0]!;
    };
    const hopTriage = one('hop Triage');
    const hopBilling = one('hop Billing');
    const handoff = one('handoff Triage → Billing');
    const toolCall = one('tool call lookup_order');
    // Two processes ran the hops; the gateway decided the handoff.
    expect(hopTriage.service).toBe('triage-worker');
    expect(hopBilling.service).toBe('billing-worker');
    expect(handoff.service).toBe('gateway');
    // Parents: conversation → hop Triage → handoff → hop Billing; queue waits, model calls and the tool call under their hop.
    expect(hopTriage.parentSpanId).toBe(root!.spanId);
    expect(handoff.parentSpanId).toBe(hopTriage.spanId);
    expect(hopBilling.parentSpanId).toBe(handoff.spanId);
    expect(toolCall.parentSpanId).toBe(hopTriage.spanId);
    const queueWaits = byName('queue wait');
    expect(queueWaits.map((s) => s.parentSpanId).sort()).toEqual([hopTriage.spanId, hopBilling.spanId].sort());
    const modelCalls = byName('model call');
    expect(modelCalls.filter((s) => s.parentSpanId === hopTriage.spanId)).toHaveLength(2);
    expect(modelCalls.filter((s) => s.parentSpanId === hopBilling.spanId)).toHaveLength(1);
  }, 30_000);
});
