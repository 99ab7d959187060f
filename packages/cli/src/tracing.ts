import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

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
 * `OTEL_RESOURCE_ATTRIBUTES`.
 *
 * @returns the provider, or undefined when tracing is off
 */
export function startTracingFromEnv(role: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (!tracingRequested(env)) return undefined;
  const exporter: SpanExporter = env.OTEL_TRACES_EXPORTER?.trim() === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter();
  const resource = detectResources({ detectors: [envDetector] }).merge(resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? `handoff-${role}` }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
