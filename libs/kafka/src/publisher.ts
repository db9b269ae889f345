import { randomUUID } from 'node:crypto';
import { CompressionTypes, Partitioners, type Kafka, type Message, type Producer, type TopicMessages } from 'kafkajs';
import type { EventContract, EventEnvelope } from '@sms/contracts';
import { SpanKind, context as otelContext, getTracer, injectContext, trace, type Context } from '@sms/telemetry';
import { EventContractViolation } from './errors.js';

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
}

const tracer = getTracer('@sms/kafka');

export function buildEnvelope<P>(contract: EventContract<P>, draft: EventDraft<P>): EventEnvelope<P> {
  const envelope: EventEnvelope<P> = {
    eventId: draft.eventId ?? randomUUID(),
    type: contract.type,
    version: contract.version,
    occurredAt: (draft.occurredAt ?? new Date()).toISOString(),
    tenantId: draft.tenantId,
    payload: draft.payload,
  };
  if (draft.messageId) envelope.messageId = draft.messageId;
  return envelope;
}

/**
 * Validates events against their contracts and sends them as arrays (kafkajs has no linger, so batching
 * is the caller's: one call, one request per broker). acks=all; the W3C trace context of each event
 * travels in its record headers, in a PRODUCER span that is the parent of the consumer's span.
 */
export class EventPublisher {
  private readonly producer: Producer;
  private connected = false;

  constructor(kafka: Kafka, options: { idempotent?: boolean } = {}) {
    this.producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
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
    const topicMessages: TopicMessages[] = [];
    const result: EventEnvelope<unknown>[][] = [];
    for (const { contract, drafts } of requests) {
      const messages: Message[] = [];
      const envelopes: EventEnvelope<unknown>[] = [];
      for (const draft of drafts) {
        const parsed = contract.payload.safeParse(draft.payload);
        if (!parsed.success) {
          throw new EventContractViolation(
            contract.topic,
            parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
          );
        }
        const envelope = buildEnvelope(contract, { ...draft, payload: parsed.data });
        envelopes.push(envelope);
        messages.push(this.toRecord(contract, envelope, draft.context ?? otelContext.active()));
      }
      result.push(envelopes);
      if (messages.length > 0) topicMessages.push({ topic: contract.topic, messages });
    }
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
    const span = tracer.startSpan(
      `publish ${contract.topic}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.destination.name': contract.topic,
          'messaging.message.id': envelope.eventId,
          'sms.message_id': envelope.messageId ?? '',
          'sms.tenant_id': envelope.tenantId,
        },
      },
      parent,
    );
    const headers: Record<string, string> = {
      'event-id': envelope.eventId,
      'event-type': envelope.type,
      'event-version': String(envelope.version),
      'content-type': 'application/json',
      ...injectContext(trace.setSpan(parent, span)),
    };
    span.end();
    return { key: contract.keyOf(envelope), value: JSON.stringify(envelope), headers };
  }
}
