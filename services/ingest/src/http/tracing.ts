import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SpanKind, SpanStatusCode, extractContext, getTracer, trace, type Context, type Histogram, type Span } from '@sms/telemetry';

const tracer = getTracer('@sms/ingest/http');
const spans = new WeakMap<FastifyRequest, { span: Span; context: Context }>();

/**
 * A SERVER span per API request, continuing the caller's `traceparent` when it sends one. The message's
 * trace starts here; its context is stored with the outbox row so every later hop joins the same trace.
 */
export function registerRequestTracing(fastify: FastifyInstance, durations?: Histogram<'route' | 'status'>): void {
  fastify.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/')) return;
    const parent = extractContext(request.headers as Record<string, string | string[] | undefined>);
    const span = tracer.startSpan(`${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'url.path': request.url.split('?')[0] },
    }, parent);
    spans.set(request, { span, context: trace.setSpan(parent, span) });
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const entry = spans.get(request);
    if (!entry) return;
    // Time inside ingest (fastify's clock starts when the request arrives): compared with the latency a
    // client sees, it tells the wait in ingest from the wait on the way (sockets, a busy machine).
    durations?.observe({ route: `${request.method} ${request.routeOptions.url ?? '-'}`, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    entry.span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) entry.span.setStatus({ code: SpanStatusCode.ERROR });
    entry.span.end();
  });
}

export function requestContext(request: FastifyRequest): Context | undefined {
  return spans.get(request)?.context;
}

export function requestSpan(request: FastifyRequest): Span | undefined {
  return spans.get(request)?.span;
}
