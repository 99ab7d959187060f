import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

/** A running tracer provider; `shutdown()` flushes the spans not exported yet. */
export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Whether the standard OpenTelemetry environment asks for traces: `OTEL_TRACES_EXPORTER` set to
 * `otlp` or `console`, or an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`
 * turns it off. Off by default.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter === 'none') return false;
  return exporter === 'otlp' || exporter === 'console' || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts the process's tracer provider when the environment asks for it (see
 * {@link tracingRequested}): spans are batched (`OTEL_BSP_*`) to OTLP over HTTP (`OTEL_EXPORTER_OTLP_*`)
 * or to the console; the service is `OTEL_SERVICE_NAME`, else `handoff-<role>`, plus
 * `OTEL_RESOURCE_ATTRIBUTES`. The SDK is loaded only then: a process that does not trace does not
 * carry it (about 11 MB of a worker's memory).
 *
 * @returns the provider, or undefined when tracing is off
 */
export async function startTracingFromEnv(role: string, env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  if (!tracingRequested(env)) return undefined;
  const [{ OTLPTraceExporter }, { detectResources, envDetector, resourceFromAttributes }, { BatchSpanProcessor, ConsoleSpanExporter }, { NodeTracerProvider }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
  ]);
  const exporter: SpanExporter = env.OTEL_TRACES_EXPORTER?.trim() === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter();
  const resource = detectResources({ detectors: [envDetector] }).merge(resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? `handoff-${role}` }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
