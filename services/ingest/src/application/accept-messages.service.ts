import { createHash, randomUUID } from 'node:crypto';
import { AcceptedV1, type AcceptedPayload } from '@sms/contracts';
import type { MessagesRepository, NewMessage, OutboxEntry } from '../infra/messages.repository.js';
import type { ValidMessage } from '../domain/send-request.js';

export interface AcceptInput {
  tenantId: string;
  sandbox: boolean;
  message: ValidMessage;
  source: 'api' | 'kafka';
  sourceEventId?: string;
  traceParent?: string;
}

export interface AcceptedMessage {
  id: string;
  status: 'accepted' | 'scheduled';
  encoding: string;
  segments: number;
  acceptedAt: string;
}

export class IdempotencyConflict extends Error {
  constructor() {
    super('this Idempotency-Key was used with a different request');
  }
}

/** Persists accepted messages and their `accepted` events in one transaction (transactional outbox). */
export class AcceptMessagesService {
  constructor(
    private readonly repository: MessagesRepository,
    private readonly defaultValiditySeconds: number,
    private readonly onCommitted: () => void,
  ) {}

  /** Accepts a batch in one transaction; returns one result per input, in order. */
  async accept(inputs: AcceptInput[]): Promise<AcceptedMessage[]> {
    const now = new Date();
    const prepared = inputs.map((input) => this.prepare(input, now));
    await this.repository.transaction(async (tx) => {
      await this.repository.insertMessages(tx, prepared.map((p) => p.row));
      await this.repository.insertOutbox(tx, prepared.map((p) => p.outbox));
    });
    this.onCommitted();
    return prepared.map((p) => p.result);
  }

  /**
   * REST with an Idempotency-Key: the same key and request returns the first message; the same key with
   * a different request is a conflict. Concurrent requests with one key race on the key's primary key,
   * so exactly one creates the message.
   */
  async acceptIdempotent(input: AcceptInput, key: string, rawRequest: unknown): Promise<{ message: AcceptedMessage; replayed: boolean }> {
    const requestHash = createHash('sha256').update(JSON.stringify(rawRequest)).digest('hex');
    const existing = await this.repository.findIdempotencyKey(input.tenantId, key);
    if (existing) return this.replay(existing, requestHash, input);
    const prepared = this.prepare(input, new Date());
    const created = await this.repository.transaction(async (tx) => {
      const claimed = await this.repository.claimIdempotencyKey(tx, input.tenantId, key, requestHash, prepared.row.id);
      if (!claimed) return false;
      await this.repository.insertMessages(tx, [prepared.row]);
      await this.repository.insertOutbox(tx, [prepared.outbox]);
      return true;
    });
    if (created) {
      this.onCommitted();
      return { message: prepared.result, replayed: false };
    }
    const winner = await this.repository.findIdempotencyKey(input.tenantId, key);
    if (!winner) throw new Error('idempotency key vanished while racing');
    return this.replay(winner, requestHash, input);
  }

  private async replay(
    existing: { requestHash: string; messageId: string },
    requestHash: string,
    input: AcceptInput,
  ): Promise<{ message: AcceptedMessage; replayed: boolean }> {
    if (existing.requestHash !== requestHash) throw new IdempotencyConflict();
    const view = await this.repository.findForTenant(input.tenantId, existing.messageId);
    return {
      replayed: true,
      message: {
        id: existing.messageId,
        status: input.message.sendAt ? 'scheduled' : 'accepted',
        encoding: view?.encoding ?? input.message.encoding,
        segments: view?.segments ?? input.message.segments,
        acceptedAt: view?.createdAt ?? new Date().toISOString(),
      },
    };
  }

  private prepare(input: AcceptInput, now: Date): { row: NewMessage; outbox: OutboxEntry; result: AcceptedMessage } {
    const id = randomUUID();
    const m = input.message;
    const validity = m.validityPeriod ?? this.defaultValiditySeconds;
    const startAt = m.sendAt ? new Date(m.sendAt) : now;
    const accepted: AcceptedPayload = {
      to: m.to,
      from: m.from,
      body: m.body,
      trafficClass: m.trafficClass,
      encoding: m.encoding,
      segments: m.segments,
      callbackUrl: m.callbackUrl,
      validUntil: new Date(startAt.getTime() + validity * 1000).toISOString(),
      acceptedAt: now.toISOString(),
      reference: m.reference,
      sandbox: input.sandbox,
    };
    return {
      row: {
        id,
        tenantId: input.tenantId,
        accepted,
        metadata: m.metadata,
        sendAt: m.sendAt,
        source: input.source,
        sourceEventId: input.sourceEventId,
      },
      outbox: {
        topic: AcceptedV1.topic,
        eventId: randomUUID(),
        tenantId: input.tenantId,
        messageId: id,
        payload: accepted,
        traceParent: input.traceParent,
        availableAt: m.sendAt,
      },
      result: { id, status: m.sendAt ? 'scheduled' : 'accepted', encoding: m.encoding, segments: m.segments, acceptedAt: accepted.acceptedAt },
    };
  }
}
