import {
  context as otelContext,
  trace,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Span,
  type Attributes,
  type TextMapGetter,
} from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export { SpanKind, SpanStatusCode, ROOT_CONTEXT, otelContext as context, trace };
export type { Context, Span, Attributes };

let sdk: NodeSDK | undefined;

/**
 * Starts the OpenTelemetry SDK for a service. Exporters come from the standard `OTEL_*` variables
 * (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, ...).
 *
 * No auto-instrumentation: the services are ESM, which require-hook instrumentations do not patch. Every
 * hop is instead traced explicitly (HTTP server span, Kafka produce/consume spans with the W3C context in
 * record headers, SMPP submit span, webhook POST span), which also makes the spans deterministic to test.
 */
export function startTelemetry(serviceName: string): void {
  if (sdk) return;
  if (process.env.OTEL_SDK_DISABLED === 'true') return;
  sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME ?? serviceName }),
    instrumentations: [],
  });
  sdk.start();
}

export async function shutdownTelemetry(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  await running?.shutdown().catch(() => undefined);
}

export function getTracer(name: string) {
  return trace.getTracer(name);
}

/** Kafka header values arrive as Buffer | string | (Buffer|string)[] | undefined. */
export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;
export type CarrierHeaders = Record<string, HeaderValue>;

const headerGetter: TextMapGetter<CarrierHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (value === undefined) return undefined;
    if (Array.isArray(value)) return value.map((v) => v.toString());
    return value.toString();
  },
};

/**
 * Kafka headers always carry W3C trace context, whatever global propagator a process configured, so the
 * wire format between services is fixed by us rather than by each service's environment.
 */
const w3c = new W3CTraceContextPropagator();

/** Extracts the W3C trace context (traceparent/tracestate) from Kafka-style headers. */
export function extractContext(headers: CarrierHeaders | undefined, base: Context = ROOT_CONTEXT): Context {
  if (!headers) return base;
  return w3c.extract(base, headers, headerGetter);
}

/** Serialises a context into `traceparent`/`tracestate` headers. */
export function injectContext(ctx: Context = otelContext.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, { set: (c, k, v) => (c[k] = v) });
  return carrier;
}

/** The `traceparent` of a context, for storing with a record whose later events continue the trace. */
export function traceparentOf(ctx: Context): string | undefined {
  return injectContext(ctx).traceparent;
}

export function contextFromTraceparent(traceparent: string | undefined | null): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return extractContext({ traceparent });
}

/** Runs `fn` in a new span (child of `parent`), ending it and recording failures. */
export async function withSpan<T>(
  tracerName: string,
  name: string,
  options: { kind?: SpanKind; parent?: Context; attributes?: Attributes },
  fn: (span: Span, ctx: Context) => Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer(tracerName);
  const parent = options.parent ?? otelContext.active();
  const span = tracer.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  try {
    const result = await otelContext.with(ctx, () => fn(span, ctx));
    return result;
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}
