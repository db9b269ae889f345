import { randomUUID } from 'node:crypto';
import { CompressionTypes, type Kafka, type Message, type Producer, type TopicMessages } from 'kafkajs';
import type { EventContract, EventEnvelope } from '@sms/contracts';
import { SpanKind, context as otelContext, getTracer, injectContext, trace, type Context, type Span } from '@sms/telemetry';
import { EventContractViolation } from './errors.js';
import { FastDefaultPartitioner } from './partitioner.js';

export interface EventDraft<P> {
  tenantId: string;
  messageId?: string;
  payload: P;
  eventId?: string;
  occurredAt?: Date;
  /** Trace context the event continues; defaults to the active context. */
  context?: Context;
}

export interface PublishRequest<P> {
  contract: EventContract<P>;
  drafts: EventDraft<P>[];
  /**
   * The caller vouches that every draft's payload was built only from values already validated against
   * this contract's schema (e.g. a consumed, validated event plus fields it checked), so the publisher skips
   * its own payload check (a zod parse per record, ~5 % of the router's CPU). Leave unset when unsure.
   */
  prevalidated?: boolean;
}

const tracer = getTracer('@sms/kafka');

export function buildEnvelope<P>(contract: EventContract<P>, draft: EventDraft<P>): EventEnvelope<P> {
  return envelopeOf(contract, draft, draft.payload, (draft.occurredAt ?? new Date()).toISOString());
}

function envelopeOf<P>(contract: EventContract<P>, draft: EventDraft<P>, payload: P, occurredAt: string): EventEnvelope<P> {
  const envelope: EventEnvelope<P> = {
    eventId: draft.eventId ?? randomUUID(),
    type: contract.type,
    version: contract.version,
    occurredAt,
    tenantId: draft.tenantId,
    payload,
  };
  if (draft.messageId) envelope.messageId = draft.messageId;
  return envelope;
}

/**
 * Validates events against their contracts and sends them as arrays (kafkajs has no linger, so batching
 * is the caller's: one call, one request per broker). acks=all; the W3C trace context of each event
 * travels in its record headers, in a PRODUCER span that is the parent of the consumer's span.
 *
 * The trace context is the only header. Event id, type and version are in the JSON envelope, which every
 * consumer parses and validates anyway; repeating them (and a constant content-type) as headers made
 * header encoding ~6 % of the router's CPU, and no consumer read them.
 */
export class EventPublisher {
  private readonly producer: Producer;
  private connected = false;

  constructor(kafka: Kafka, options: { idempotent?: boolean } = {}) {
    this.producer = kafka.producer({
      // kafkajs's default choices (Java murmur2 of the key), computed without its 64-bit Long emulation.
      createPartitioner: FastDefaultPartitioner,
      idempotent: options.idempotent ?? false,
      maxInFlightRequests: options.idempotent ? 1 : 5,
      allowAutoTopicCreation: false,
    });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }

  async publish<P>(contract: EventContract<P>, drafts: EventDraft<P>[]): Promise<EventEnvelope<P>[]> {
    const [envelopes] = await this.publishMany([{ contract, drafts }]);
    return envelopes as EventEnvelope<P>[];
  }

  /** Publishes to several topics in one sendBatch. Returns the envelopes per request, in order. */
  async publishMany(requests: PublishRequest<unknown>[]): Promise<EventEnvelope<unknown>[][]> {
    // One entry per topic: kafkajs merges entries of one topic by re-copying the whole array for each
    // (`[...merged, ...messages]`), quadratic for callers like the router that make a request per message.
    const byTopic = new Map<string, Message[]>();
    const result: EventEnvelope<unknown>[][] = [];
    // One clock reading per call: the events of one call are produced together.
    let now: string | undefined;
    for (const { contract, drafts, prevalidated } of requests) {
      let messages = byTopic.get(contract.topic);
      if (!messages) {
        messages = [];
        byTopic.set(contract.topic, messages);
      }
      const envelopes: EventEnvelope<unknown>[] = [];
      for (const draft of drafts) {
        const payload = prevalidated ? draft.payload : checked(contract, draft.payload);
        const occurredAt = draft.occurredAt ? draft.occurredAt.toISOString() : (now ??= new Date().toISOString());
        const envelope = envelopeOf(contract, draft, payload, occurredAt);
        envelopes.push(envelope);
        messages.push(this.toRecord(contract, envelope, draft.context ?? otelContext.active()));
      }
      result.push(envelopes);
    }
    const topicMessages: TopicMessages[] = [];
    for (const [topic, messages] of byTopic) if (messages.length > 0) topicMessages.push({ topic, messages });
    if (topicMessages.length > 0) {
      await this.producer.sendBatch({ topicMessages, acks: -1, compression: CompressionTypes.None });
    }
    return result;
  }

  /** Sends raw records (used for the dead-letter topic, whose value is the original bytes). */
  async sendRaw(topic: string, messages: Message[]): Promise<void> {
    await this.producer.send({ topic, messages, acks: -1 });
  }

  private toRecord<P>(contract: EventContract<P>, envelope: EventEnvelope<P>, parent: Context): Message {
    const span = tracer.startSpan(spanNameOf(contract.topic), { kind: SpanKind.PRODUCER }, parent);
    // Attributes only for a span that records them: with tracing off (or not sampled) they were built
    // for nothing, for every record.
    if (span.isRecording()) {
      span.setAttributes({
        'messaging.system': 'kafka',
        'messaging.destination.name': contract.topic,
        'messaging.message.id': envelope.eventId,
        'sms.message_id': envelope.messageId ?? '',
        'sms.tenant_id': envelope.tenantId,
      });
    }
    const headers = this.traceHeaders(span, parent); // before end(): an ended span no longer records
    span.end();
    return { key: contract.keyOf(envelope), value: JSON.stringify(envelope), headers };
  }

  /** The W3C headers of a record's PRODUCER span, without building a Context when nothing changes. */
  private traceHeaders(span: Span, parent: Context): Record<string, string> {
    const spanContext = span.spanContext();
    if (span.isRecording()) return injectContext(trace.setSpan(parent, span));
    // Nothing to propagate (no trace, e.g. tracing off and no incoming traceparent).
    if (!trace.isSpanContextValid(spanContext)) return {};
    // Tracing off: the no-op tracer's span is its parent's span context, so the parent injects the same.
    if (spanContext === trace.getSpanContext(parent)) return injectContext(parent);
    return injectContext(trace.setSpan(parent, span));
  }
}

function checked<P>(contract: EventContract<P>, payload: P): P {
  const parsed = contract.payload.safeParse(payload);
  if (!parsed.success) {
    throw new EventContractViolation(
      contract.topic,
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return parsed.data;
}

const spanNames = new Map<string, string>();

function spanNameOf(topic: string): string {
  let name = spanNames.get(topic);
  if (name === undefined) {
    name = `publish ${topic}`;
    spanNames.set(topic, name);
  }
  return name;
}
