import { context as otelContext, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * Tracing: one conversation is one OpenTelemetry trace across every process it passes through.
 * The W3C `traceparent` travels in the start command, the conversation record, each envelope and
 * each turn result. These helpers only use the OpenTelemetry API: without a registered tracer
 * provider (the default) every span is a no-op and no traceparent is written.
 */

/** One tracer for the process (it follows a provider registered later). */
const tracer = trace.getTracer('handoff');
const propagator = new W3CTraceContextPropagator();
const getter = { keys: (carrier: Record<string, string>) => Object.keys(carrier), get: (carrier: Record<string, string>, key: string) => carrier[key] };
const setter = { set: (carrier: Record<string, string>, key: string, value: string) => void (carrier[key] = value) };

/** The W3C traceparent of a context's span, or undefined when tracing is off or there is no span. */
export function traceparentOf(ctx: Context = otelContext.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, setter);
  return carrier.traceparent;
}

/** The context a traceparent stands for (the root context when there is none). */
export function contextOfTraceparent(traceparent: string | undefined): Context {
  if (traceparent === undefined) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, { traceparent }, getter);
}

/** Starts a span under a parent context. End it with {@link endSpan}. */
export function startSpan(name: string, parent: Context, attributes: Attributes = {}, options: { startTime?: number; kind?: SpanKind } = {}): Span {
  return tracer.startSpan(name, { attributes, kind: options.kind ?? SpanKind.INTERNAL, ...(options.startTime === undefined ? {} : { startTime: options.startTime }) }, parent);
}

/** Ends a span, marking it failed when an error is given. */
export function endSpan(span: Span, error?: unknown, endTime?: number): void {
  if (error !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    if (error instanceof Error) span.recordException(error);
  }
  span.end(endTime);
}

/** A span that starts and ends now (a moment such as a handoff); returns its traceparent. */
export function markSpan(name: string, parent: Context, attributes: Attributes = {}): string | undefined {
  const span = startSpan(name, parent, attributes);
  const traceparent = traceparentOf(trace.setSpan(parent, span));
  span.end();
  return traceparent;
}

/**
 * Runs `work` inside a new span, as the active context (so spans started inside are its
 * children); the span ends when `work` settles and records its error.
 */
export async function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  const span = startSpan(name, otelContext.active(), attributes);
  try {
    const result = await otelContext.with(trace.setSpan(otelContext.active(), span), () => work(span));
    endSpan(span);
    return result;
  } catch (error) {
    endSpan(span, error);
    throw error;
  }
}

/** Runs `work` with a span as the active context. */
export function withSpan<T>(span: Span, work: () => T): T {
  return otelContext.with(trace.setSpan(otelContext.active(), span), work);
}

/** The traceparent of a span. */
export function traceparentOfSpan(span: Span): string | undefined {
  return traceparentOf(trace.setSpan(ROOT_CONTEXT, span));
}
